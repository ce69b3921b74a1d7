"""Back ends: one package per target, each reading only the FewdIF IR and the build folder."""
