"""Web: pages, REST APIs, forms, pickers and rendering on top of Flask-AppBuilder (``web.fab`` is the only place
that knows its internals). Imports values and tenancy (the exceptions are listed in tests/test_layers.py)."""
