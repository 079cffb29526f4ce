"""HTTP plumbing shared by the HTTP adapters (the JSON API, the staff console, the public
site): SQLite write turns, short database steps off the request thread pool, and the login
flow over core's throttle. No routes, no texts: each adapter answers in its own way."""
