"""Operating the product: background jobs, backups, stored attachment files, demo data."""
