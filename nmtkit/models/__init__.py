"""The three component registries (the only module-level mutable state) and built-in components.

Importing this package registers every built-in encoder, scorer and decoder: each subpackage's
`__init__` imports its sibling modules, so adding a component is adding one file.
"""

from __future__ import annotations

from nmtkit.models.base import Decoder, Encoder, Scorer
from nmtkit.registry import Registry

ENCODERS: Registry[Encoder] = Registry("encoder", Encoder)
ATTENTION: Registry[Scorer] = Registry("attention", Scorer)
DECODERS: Registry[Decoder] = Registry("decoder", Decoder)

from nmtkit.models import attention, decoders, encoders  # noqa: E402, F401  (registers built-ins)
