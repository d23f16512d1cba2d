"""Excel import and export: declarations of importable lists, file safety, cell parsing, the import engine,
workbooks, the upload store, and their pages, API and CLI."""
