"""Docker: probing images and running containers.

- run.py: the entry, `probe_target` (a target's options checked, then one of:)
- image.py: a probe in a new container of an image (inspect or pull, create, wait,
  logs, removal whatever happens); exec.py: a probe in a running container.
- options.py: the target (`ContainerTarget`, which `collect.Source` satisfies),
  `--gpus` and `--shm-size` as `docker run` reads them.
- signals.py: Ctrl-C and SIGTERM end in the container's removal; a killed probe's
  exit status.
- engine.py: the Engine API calls, every answer checked once, over a transport
  (transport.py: the bounded interface, its errors and limits): unix.py (the
  standard library on the local socket) or sdk.py (the `docker` SDK, for remote
  daemons and pulls; the only module that imports `docker`).
- parse.py: Facts from what Docker and the probe print (`docker image inspect`,
  the shell fallback), and their merge with the host's.

The probe itself travels as envlock.payload (`--python` uses it too); image
references are parsed by envlock.imageref (pure: the checks use it too).

This file imports nothing: `envlock probe --image` starts its container before
the rest of envlock has loaded, and every import here would come first.
"""
