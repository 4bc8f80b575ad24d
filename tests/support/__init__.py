"""What tests in several folders share and a fixture cannot hand them: types for annotations,
constants, and functions that hold no state.  Fixtures live in the conftest.py files."""
