"""The component registries, the architecture registry (the only module-level mutable state)
and the built-in components and named architectures.

Importing this package registers every built-in encoder, scorer and decoder (each subpackage's
`__init__` imports its sibling modules, so adding a component is adding one file), then the
named architectures of `nmtkit.models.architectures` (`--arch`; see ArchitectureRegistry).
"""

from __future__ import annotations

from nmtkit.models.base import Decoder, Encoder, Scorer
from nmtkit.registry import ArchitectureRegistry, Registry

ENCODERS: Registry[Encoder] = Registry("encoder", Encoder)
ATTENTION: Registry[Scorer] = Registry("attention", Scorer)
DECODERS: Registry[Decoder] = Registry("decoder", Decoder)
ARCHITECTURES = ArchitectureRegistry()

# the components first, then the architectures (and aliases) that name them
from nmtkit.models import attention, decoders, encoders  # noqa: E402, F401, I001
from nmtkit.models import architectures, transformer_archs  # noqa: E402, F401
