"""Framework-free recommendation engine (numpy/scipy/implicit). Never imports Django."""
