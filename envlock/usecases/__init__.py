"""The use cases behind the front door (envlock/api.py): one module each, each with a
typed result. The API keeps the public signatures and calls one function here; the
commands parse, call the API and render. Modules load on first use, so that `envlock
verify` imports only what verifying needs.
"""
