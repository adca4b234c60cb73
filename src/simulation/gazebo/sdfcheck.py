"""Parse SDF/URDF files with the real SDFormat library (libsdformat, C++) and report every error.

Gazebo is not needed: a ~100-line C++ checker (:data:`CHECKER_SOURCE`) is compiled once with ``g++``
against the system's SDFormat (Debian 12: ``libsdformat-dev``, SDFormat 12, SDF spec 1.9) and cached
outside the repository (``$XDG_CACHE_HOME/sanqin`` or ``~/.cache/sanqin``). It loads each file with
every enforcement policy set to *error* — unknown elements, warnings, deprecated elements — builds the
DOM (so frame graphs, poses, joints and included models are validated) and prints per file the counts
of worlds, models, links, joints, sensors, visuals and collisions, or its errors.

Only the elements in :data:`~sanqin.simulation.gazebo.sdf.HARMONIC_ELEMENTS` (newer than SDF 1.9 and
read by Gazebo Harmonic's sensors) are accepted although SDFormat 12 does not know them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sanqin.simulation.gazebo.errors import GazeboError
from sanqin.simulation.gazebo.sdf import HARMONIC_ELEMENTS, SDF_VERSION

PKG_CONFIG_NAMES = ("sdformat12", "sdformat13", "sdformat14", "sdformat15")

CHECKER_SOURCE = r"""
// sanqin SDF checker: strict SDFormat parse of each file; one result line per file.
#include <sdf/sdf.hh>
#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

struct Counts { int worlds = 0, models = 0, links = 0, joints = 0, sensors = 0, visuals = 0, collisions = 0; };

static void countModel(const sdf::Model *m, Counts &c) {
  c.models++;
  for (uint64_t i = 0; i < m->LinkCount(); ++i) {
    const sdf::Link *l = m->LinkByIndex(i);
    c.links++;
    c.sensors += static_cast<int>(l->SensorCount());
    c.visuals += static_cast<int>(l->VisualCount());
    c.collisions += static_cast<int>(l->CollisionCount());
  }
  for (uint64_t i = 0; i < m->JointCount(); ++i) {
    c.joints++;
    c.sensors += static_cast<int>(m->JointByIndex(i)->SensorCount());
  }
  for (uint64_t i = 0; i < m->ModelCount(); ++i) countModel(m->ModelByIndex(i), c);
}

static std::string oneLine(std::string s) {
  for (char &ch : s) if (ch == '\n' || ch == '\t') ch = ' ';
  return s;
}

static bool newerThan(const std::string &v, const std::string &max) {
  int a = 0, b = 0, c = 0, d = 0;
  char dot;
  std::istringstream(v) >> a >> dot >> b;
  std::istringstream(max) >> c >> dot >> d;
  return a > c || (a == c && b > d);
}

int main(int argc, char **argv) {
  std::set<std::string> allowed;
  std::vector<std::string> files;
  sdf::ParserConfig cfg;
  cfg.SetWarningsPolicy(sdf::EnforcementPolicy::ERR);
  cfg.SetUnrecognizedElementsPolicy(sdf::EnforcementPolicy::ERR);
  cfg.SetDeprecatedElementsPolicy(sdf::EnforcementPolicy::ERR);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--allow" && i + 1 < argc) { allowed.insert(argv[++i]); }
    else if (a == "--uri" && i + 1 < argc) {
      std::string spec = argv[++i];
      auto eq = spec.find('=');
      cfg.AddURIPath(spec.substr(0, eq), spec.substr(eq + 1));
    } else { files.push_back(a); }
  }
  int bad = 0;
  for (const auto &f : files) {
    sdf::Root root;
    sdf::Errors errors = root.Load(f, cfg);
    std::vector<std::string> kept;
    for (const auto &e : errors) {
      std::string msg = e.Message();
      bool ok = false;
      for (const auto &name : allowed)
        if (msg.find("Element[" + name + "]") != std::string::npos &&
            msg.find("not defined in SDF") != std::string::npos)
          ok = true;
      if (!ok) {
        std::ostringstream os;
        os << e;
        kept.push_back(oneLine(os.str()));
      }
    }
    std::string version = root.Element() ? root.Element()->OriginalVersion() : "";
    if (version.empty() || newerThan(version, SDF_VERSION))
      kept.push_back("SDF version '" + version + "' is not one this parser (SDF " SDF_VERSION ") can check");
    Counts c;
    for (uint64_t i = 0; i < root.WorldCount(); ++i) {
      const sdf::World *w = root.WorldByIndex(i);
      c.worlds++;
      for (uint64_t j = 0; j < w->ModelCount(); ++j) countModel(w->ModelByIndex(j), c);
    }
    if (root.Model()) countModel(root.Model(), c);
    if (c.worlds == 0 && c.models == 0) kept.push_back("no world and no model loaded");
    if (kept.empty()) {
      std::cout << "OK\t" << f << "\tversion=" << version << "\tworlds=" << c.worlds << "\tmodels=" << c.models
                << "\tlinks=" << c.links << "\tjoints=" << c.joints << "\tsensors=" << c.sensors
                << "\tvisuals=" << c.visuals << "\tcollisions=" << c.collisions << "\n";
    } else {
      bad++;
      for (const auto &k : kept) std::cout << "ERR\t" << f << "\t" << k << "\n";
    }
  }
  return bad ? 1 : 0;
}
"""


@dataclass
class FileReport:
    """The checker's verdict on one file: errors (empty when it parsed cleanly) and element counts."""

    path: str
    errors: list[str] = field(default_factory=list)
    counts: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when SDFormat reported no error."""
        return not self.errors


def _pkg_config() -> tuple[str, list[str]] | None:
    if shutil.which("pkg-config") is None:
        return None
    for name in PKG_CONFIG_NAMES:
        res = subprocess.run(["pkg-config", "--cflags", "--libs", name], capture_output=True, text=True, check=False)
        if res.returncode == 0:
            return name, res.stdout.split()
    return None


def unavailable_reason() -> str | None:
    """Why the checker cannot be built here (None when it can)."""
    if shutil.which("g++") is None:
        return "g++ is not installed"
    if _pkg_config() is None:
        return ("SDFormat development files are not installed (Debian/Ubuntu: apt-get install libsdformat-dev "
                "pkg-config)")
    return None


def cache_dir() -> Path:
    """Where the compiled checker is kept (never inside the repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sanqin"


def build_checker(cache: Path | None = None) -> Path:
    """Compile the checker (once per source/library version) and return the binary's path."""
    found = _pkg_config()
    if found is None or shutil.which("g++") is None:
        raise GazeboError(f"cannot build the SDF checker: {unavailable_reason()}")
    name, flags = found
    source = CHECKER_SOURCE.replace("SDF_VERSION", f'"{SDF_VERSION}"')
    digest = hashlib.sha256((source + name + " ".join(flags)).encode()).hexdigest()[:16]
    out_dir = cache or cache_dir()
    binary = out_dir / f"sdfcheck-{name}-{digest}"
    if binary.is_file():
        return binary
    out_dir.mkdir(parents=True, exist_ok=True)
    src = out_dir / f"sdfcheck-{digest}.cc"
    src.write_text(source, encoding="utf-8")
    tmp = binary.with_suffix(f".tmp{os.getpid()}")
    res = subprocess.run(["g++", "-O1", "-o", str(tmp), str(src), *flags], capture_output=True, text=True,
                         check=False)
    if res.returncode != 0:
        raise GazeboError(f"compiling the SDF checker against {name} failed:\n{res.stderr[-4000:]}")
    tmp.replace(binary)  # atomic: concurrent test runs never see a half-written binary
    return binary


def check_files(paths: Sequence[str | Path], model_dirs: Sequence[str | Path] = (),
                allowed: Sequence[str] = HARMONIC_ELEMENTS, binary: Path | None = None) -> list[FileReport]:
    """Parse every file with SDFormat; ``model://`` URIs resolve in ``model_dirs``."""
    exe = binary or build_checker()
    args = [str(exe)]
    for name in allowed:
        args += ["--allow", name]
    for d in model_dirs:
        args += ["--uri", f"model://={d}"]
    args += [str(p) for p in paths]
    res = subprocess.run(args, capture_output=True, text=True, check=False, timeout=300)
    reports = {str(p): FileReport(str(p)) for p in paths}
    for line in res.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or parts[1] not in reports:
            continue
        rep = reports[parts[1]]
        if parts[0] == "OK":
            rep.counts = dict(p.split("=", 1) for p in parts[2:])
        else:
            rep.errors.append(parts[2] if len(parts) > 2 else "error")
    for rep in reports.values():
        if not rep.ok or rep.counts:
            continue
        rep.errors.append(f"checker gave no verdict (exit {res.returncode}): {res.stderr.strip()[-500:]}")
    return list(reports.values())


def stub_models(names: Sequence[str], directory: str | Path) -> Path:
    """Minimal stand-ins for models of other packages (e.g. ardupilot_gazebo's vehicles) so that a world
    including them can be checked here; the stand-ins themselves are not what is being checked."""
    root = Path(directory)
    for name in names:
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "model.config").write_text(
            f'<?xml version="1.0"?>\n<model><name>{name}</name><version>1.0</version>'
            f'<sdf version="{SDF_VERSION}">model.sdf</sdf></model>\n', encoding="utf-8")
        (d / "model.sdf").write_text(
            f'<?xml version="1.0"?>\n<sdf version="{SDF_VERSION}"><model name="{name}"><link name="base_link"/>'
            "</model></sdf>\n", encoding="utf-8")
    return root
