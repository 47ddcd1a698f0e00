"""Maps each top-level code folder to a ``gridhan.<folder>`` package (see DESIGN in README)."""

from setuptools import find_packages, setup

CODE_FOLDERS = ("schemas", "certs", "server", "client", "conformance", "cli")

packages: list[str] = []
package_dir: dict[str, str] = {}
for folder in CODE_FOLDERS:
    package_dir[f"gridhan.{folder}"] = folder
    packages.append(f"gridhan.{folder}")
    packages += [f"gridhan.{folder}.{sub}" for sub in find_packages(folder)]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={"gridhan.server": ["store/alembic.ini", "admin/*.json", "admin/static/*"]},
    include_package_data=True,
)
