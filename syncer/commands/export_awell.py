"""``syncer export-awell KEY PATH``: ``flows/KEY/flow.yaml`` → an Awell Studio Source Control export.

For teams moving from Git back to Awell Studio, and the other half of the importer's round trip. Concealed
constants and extension settings are written ``obfuscated: true`` without a value: the value is not in Git,
so it has to be set in Awell Studio after the import.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import yamlio
from ..awell import folder as awellio
from ..awell import outbound as awell_export
from ..errors import EXIT_OK, ConfigError, UsageError
from ..model import FLOW_KEY_PATTERN


def run(args: argparse.Namespace) -> int:
    """Write every component file of flow ``args.key`` into the folder ``args.path``."""
    key: str = args.key
    if not FLOW_KEY_PATTERN.match(key):
        raise UsageError(
            f"`{key}` is not a flow key (lowercase letters, digits and dashes, at most 63)."
        )
    relative = Path("flows", key, "flow.yaml")
    source = Path(args.repo) / relative
    if not source.is_file():
        raise ConfigError(
            f"{relative.as_posix()} does not exist in {args.repo}; `syncer validate` lists the flows."
        )
    document = yamlio.load_file(source, display=relative.as_posix())
    components = awell_export.to_awell(document.data, display=relative.as_posix())
    target = Path(args.path)
    awellio.write_export(target, components)
    total = sum(len(entries) for entries in components.values())
    print(f"Wrote {total} components of {key} in Awell Studio's format to {target}")
    hidden = awell_export.concealed_count(components)
    if hidden:
        print(
            f"{hidden} concealed value{'s are' if hidden != 1 else ' is'} written obfuscated without a"
            " value: set them in Awell Studio."
        )
    return EXIT_OK
