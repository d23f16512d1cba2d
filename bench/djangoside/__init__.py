"""A minimal Django admin over the same rows as bench/list_page.py: the speed bar.

Only the benchmark uses it (`pip install django`); the product does not depend on Django.
"""
