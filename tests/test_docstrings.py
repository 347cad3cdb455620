"""Every public function and class has a docstring example (issue 11).

The examples themselves are run by ``tools/run_docstring_examples.py`` (a step of ``.ci/run``
after the test suite; about 15 s), not here: this test only reads the docstrings.
"""

import inspect
import re

import cbec_sem as cs

EXAMPLE_SECTION = re.compile(r"^Examples?:\s*$", re.MULTILINE)


def _public_functions_and_classes():
    for name in cs.__all__:
        obj = getattr(cs, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield name, obj


def test_the_public_api_is_not_empty():
    # Guards the test below against passing vacuously.
    assert len(list(_public_functions_and_classes())) >= 60


def test_every_public_function_and_class_has_an_example_section_with_code():
    missing = []
    for name, obj in _public_functions_and_classes():
        doc = inspect.getdoc(obj) or ""
        match = EXAMPLE_SECTION.search(doc)
        if match is None or ">>> " not in doc[match.end():]:
            missing.append(name)
    assert not missing, (
        "public names without an 'Example:' section holding a '>>>' line (issue 11): "
        + ", ".join(missing)
    )
