"""Docker: probing images and running containers.

- envlock.container.engine: the Docker Engine API (a standard-library client on
  the local socket, the `docker` SDK for the rest); the only module that
  imports `docker`.
- envlock.container.run: the probe run (options, payload, container lifecycle).
- envlock.container.parse: Facts from what Docker and the probe print
  (`docker image inspect`, the shell fallback), and their merge with the host's.

This file imports nothing: `envlock probe --image` starts its container before
the rest of envlock has loaded, and every import here would come first.
"""
