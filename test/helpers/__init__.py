"""Code shared by tests (on the path through pytest.ini `pythonpath`)."""
