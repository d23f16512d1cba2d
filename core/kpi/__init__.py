"""KPI engine and the December assessment: checks and targets (``engine``), figures kept live (``live``),
presentation, pages, API and CLI."""
