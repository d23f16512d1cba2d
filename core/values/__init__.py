"""Values: validation, parsing and formatting of what an office writes; choices, the clock, pinyin initials,
resource limits. The bottom layer: imports nothing else of core."""
