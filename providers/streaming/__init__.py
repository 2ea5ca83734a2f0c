"""Protocol-neutral streaming: the block assembler every wire protocol's chunk reader drives."""

from providers.streaming.assembler import BlockAssembler, BlockKind
from providers.streaming.reader import ChunkReader
from providers.streaming.wire_json import WireJson

__all__ = ["BlockAssembler", "BlockKind", "ChunkReader", "WireJson"]
