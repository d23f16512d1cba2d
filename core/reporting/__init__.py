"""The reporting loop: reports upward and their review, notices, messages and the to-do list."""
