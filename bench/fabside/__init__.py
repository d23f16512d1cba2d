"""A minimal stock Flask-AppBuilder app over the same rows as our memo notes: the speed bar of
bench/list_page.py and bench/load.py. It runs in its own process (our app patches FAB), on its own
database, with nothing of ours imported."""
