"""Plans: what a Dockerfile, compose file, manifest, requirements file or lock says will
be built and run, read before anything is built (envlock/plan/model.py says how a reader
plugs in). Pure: text in, typed Plans out; envlock.usecases.plan does the file reading."""
