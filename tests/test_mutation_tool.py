"""tools/mutation.py names real code and real tests: a renamed file would silently mutate
nothing, or run no test against its mutants."""

import importlib.util

from commands import ROOT


def test_every_package_of_the_mutation_run_exists():
    spec = importlib.util.spec_from_file_location("mutation", ROOT / "tools" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.PACKAGES) == {"answers", "rewards", "metrics", "network", "curriculum", "datasets-check", "recipe-mapping"}
    for package, (sources, tests) in module.PACKAGES.items():
        assert sources and tests, package
        for path in [*sources, *tests]:
            assert (ROOT / path).exists(), (package, path)
