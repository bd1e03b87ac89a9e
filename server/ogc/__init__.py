"""OGC API building blocks shared by the features and tiles routers.

* :mod:`server.ogc.cql2` - CQL2 filters (text and JSON, parsed by pygeofilter) evaluated over a
  layer's frame, vectorised;
* :mod:`server.ogc.queryables` - the JSON Schema of what a caller may filter, sort and select on;
* :mod:`server.ogc.selection` - ``sortby``, ``properties`` and ``ids`` of ``/items``;
* :mod:`server.ogc.tilesets` - tile-matrix sets (morecantile) and the tileset documents.
"""
