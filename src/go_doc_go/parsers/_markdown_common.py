"""Constants shared by the two Markdown backends (``markdown`` and ``_markdown_pyromark``)."""

from __future__ import annotations

from go_doc_go.model import ElementType

_ROOT = ElementType.ROOT
_HEADER = ElementType.HEADER
_PARAGRAPH = ElementType.PARAGRAPH
_LIST = ElementType.LIST
_LIST_ITEM = ElementType.LIST_ITEM
_TABLE = ElementType.TABLE
_TABLE_ROW = ElementType.TABLE_ROW
_TABLE_HEADER = ElementType.TABLE_HEADER
_TABLE_CELL = ElementType.TABLE_CELL
_CODE = ElementType.CODE_BLOCK
_QUOTE = ElementType.BLOCKQUOTE
_IMAGE = ElementType.IMAGE
_HR = ElementType.HORIZONTAL_RULE

# Separator used to join the children's text of each container type.
_ROW_SEP = " | "
_BLOCK_SEP = "\n"
