"""geo.overlay.covered_area equals the plain overlay with the union (hypothesis)."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.overlay import covered_area

coord = st.floats(min_value=-2000, max_value=2000, allow_nan=False)
CELLS = np.array([shapely.box(x, y, x + 500, y + 500) for x in range(-2000, 2000, 500)
                  for y in range(-2000, 2000, 500)])


@settings(max_examples=80, deadline=None)
@given(centres=st.lists(st.tuples(coord, coord, st.floats(min_value=10, max_value=1500)), min_size=1, max_size=6))
def test_covered_area_equals_the_overlay_with_the_union(centres):
    covers = shapely.buffer(shapely.points([(x, y) for x, y, _ in centres]), [r for *_, r in centres])
    expected = shapely.area(shapely.intersection(CELLS, shapely.union_all(covers)))
    assert np.allclose(covered_area(CELLS, covers), expected, atol=0.25)


def test_no_covers_cover_nothing_and_no_cells_give_nothing():
    assert covered_area(CELLS, []).tolist() == [0.0] * len(CELLS)
    assert covered_area([], [shapely.box(0, 0, 1, 1)]).tolist() == []


def test_a_cell_inside_one_cover_counts_whole_and_overlaps_count_once():
    cells = [shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)]
    covers = [shapely.box(-1, -1, 2, 2), shapely.box(-1, -1, 3, 3), shapely.box(5.5, 5, 7, 6)]
    assert covered_area(cells, covers).tolist() == [1.0, 0.5]
