"""Open place-and-route back end (Lattice ECP5): the self-test top and its build flow."""
