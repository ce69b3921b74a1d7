"""The build flow: a typed build config, the build folder, named steps and the runner."""
