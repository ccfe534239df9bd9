"""Reading an ONIX for Books feed into ``BookRecord``s and ``Reject``s, one per ``<Product>``.

ONIX 3.0 and 2.1, reference names or short tags, in whatever namespace the sender used (or
none): every element is matched on its local name, short tags translated to reference names by
``_SHORT_TAGS``. A 3.0 product keeps its data in blocks (``DescriptiveDetail``,
``PublishingDetail``, ``CollateralDetail``, ``ProductSupply``); a 2.1 product keeps the same
elements directly under ``<Product>``: each lookup tries the block and falls back on the product.

The file is streamed with ``lxml.etree.iterparse``; each product is cleared with the siblings
before it once read, so memory stays flat whatever the size of the feed. Entities are never
resolved, no DTD is loaded and nothing is fetched from the network: a DOCTYPE naming a remote DTD
is ignored and an external entity (XXE) stays an unexpanded reference, which the reader drops.

Modules: ``reader`` (the feed and each product's fields), ``elements`` (elements by reference
name), ``prices`` (price and stock from the supply details), ``texts`` (descriptions as plain
text).
"""

from .reader import read_onix

__all__ = ["read_onix"]
