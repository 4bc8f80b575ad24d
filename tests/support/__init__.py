"""What tests in several folders share and a fixture cannot hand them: types for annotations,
constants, and functions that hold no state.  Fixtures live in the conftest.py files.

Every folder under tests/ is a package, so pytest (in its default import mode) puts the
repository on sys.path: tests import this as `tests.support.<module>`, and test modules in
different folders may share a name.  No test module imports another.
"""
