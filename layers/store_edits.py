"""Row edits, the one part of the Store contract that is about single rows: :class:`RowEdits`.

Mixed into :class:`layers.store_base.BaseStore`, so that both backends decide alike: which touched
row is stale (a :class:`~layers.errors.Conflict` carrying the current rows, nothing written), which
upsert is an insert, an update or a revival, what each audit row says before and after. Every
backend step runs inside the store's one write transaction (:class:`layers.store_base.Transaction`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import InputError
from layers.errors import Conflict
from layers.store_records import RETIRED_COLUMNS, SYSTEM_COLUMNS, EditResult
from layers.store_rows import RawRows, documents_json, frame_from_raw, now, prepare_layer, row_documents

__all__ = ["RowEdits"]


class RowEdits:
    """``edit`` over the primitives of :class:`layers.store_base.BaseStore` (a mixin of it)."""

    def edit(self, layer: str, upserts: gpd.GeoDataFrame | None = None, retirements: Iterable = (),
             base_versions: Mapping | None = None, *, actor: str, reason: str = "") -> EditResult:
        """Insert, update, retire and revive rows of ``layer`` in one transaction.

        Parameters
        ----------
        layer : str
            A layer with an id field.
        upserts : GeoDataFrame, optional
            Whole rows, with every column of the layer. The store checks that each value fits its
            column's type (ValidationError naming the row's id and the column otherwise); the rules
            of the catalogue (required fields, enumerations, ranges, geometry) are the caller's to
            apply first with :func:`layers.validate.validate_layer`, as :func:`layers.io.import_layer`
            does before a whole-layer write — they are domain rules, and they cost more than the
            commit itself. System columns in the frame are ignored, except that ``row_version``
            serves as the base version of a row that ``base_versions`` does not name.
        retirements : iterable of ids
            Rows to retire (kept in the archive, with who and when).
        base_versions : mapping of id to int or None
            The row version each touched row had when the editor read it; None or absent for a
            row the editor adds.
        actor : str
            Who edits (recorded on the rows and in the audit log).
        reason : str
            Why (recorded in the audit log).

        Raises
        ------
        Conflict
            A touched row has another version than its base version (changed, added or retired
            since); carries the current rows. Nothing was written.
        ValidationError, InputError
            Bad rows, an unknown id to retire, a layer without id field. Nothing was written.
        """
        if not isinstance(actor, str) or not actor.strip():
            raise InputError("edit: say who edits (actor)")
        meta = self._vector_meta(layer)
        id_field = meta.get("id_field")
        if not id_field:
            raise InputError(f"layer {layer!r} has no id field: its rows cannot be edited one by one; "
                             f"replace it as a whole (import)")
        base = {str(k): (None if v is None else int(v)) for k, v in (base_versions or {}).items()}
        frame = None
        if upserts is not None and len(upserts):
            frame, implied = self._edit_frame(layer, upserts, id_field)
            base = {**implied, **base}
        retire = [str(i) for i in retirements]
        if len(set(retire)) != len(retire):
            raise InputError(f"layer {layer!r}: an id is retired twice")
        if frame is None and not retire:
            raise InputError(f"layer {layer!r}: nothing to edit (no upserts, no retirements)")
        when = now()
        with self._transaction() as tx:
            meta = tx.meta(layer)
            if meta is None or meta.get("id_field") != id_field:
                raise Conflict(layer, [], detail="the layer was replaced meanwhile; read it again")
            types = tx.column_types(layer)
            rows = (prepare_layer(layer, frame, id_field=id_field, types=types,
                                  skip=frozenset((*SYSTEM_COLUMNS, *RETIRED_COLUMNS)))
                    if frame is not None else None)
            touched = (rows.ids if rows is not None else []) + retire
            both = set(retire) & set(rows.ids if rows is not None else [])
            if both:
                raise InputError(f"layer {layer!r}: {', '.join(sorted(both))} both upserted and retired")
            live_raw, live_system = tx.fetch(layer, id_field, touched, types)
            archived = {e["feature"]: e for e in tx.fetch_archive(layer, touched)}
            live = {str(v): i for i, v in enumerate(live_raw.values[id_field])}
            self._check_versions(layer, id_field, touched, retire, base, live, live_system, archived,
                                 live_raw, types)
            return self._apply_edit(tx, meta, rows, retire, live, live_raw, live_system, archived, when,
                                    actor, reason)

    def _edit_frame(self, layer: str, upserts, id_field: str):
        if not isinstance(upserts, gpd.GeoDataFrame):
            raise InputError(f"layer {layer!r}: upserts must be a GeoDataFrame, got {type(upserts).__name__}")
        implied = {}
        if "row_version" in upserts.columns and id_field in upserts.columns:
            implied = {str(i): (None if pd.isna(v) else int(v))
                       for i, v in zip(upserts[id_field], upserts["row_version"])}
        return upserts, implied

    def _check_versions(self, layer, id_field, touched, retire, base, live, live_system, archived,
                        live_raw, types) -> None:
        stale = []
        for feature in touched:
            expected = base.get(feature)
            if feature in live:
                actual, state = int(live_system["row_version"][live[feature]]), "live"
            elif feature in archived:
                actual, state = int(archived[feature]["row_version"]), "retired"
            else:
                actual, state = None, "absent"
            if feature in retire and state == "absent":
                raise InputError(f"layer {layer!r}: no row {feature!r} to retire")
            if expected != actual or (feature in retire and state == "retired"):
                stale.append((feature, expected, actual, state))
        if not stale:
            return
        ids = {s[0] for s in stale}
        positions = [i for i, v in enumerate(live_raw.values[id_field]) if str(v) in ids]
        current = None
        if positions:
            taken = RawRows(live_raw.columns, live_raw.types,
                            {c: [live_raw.values[c][i] for i in positions] for c in live_raw.columns},
                            [live_raw.wkb[i] for i in positions])
            current = frame_from_raw(layer, taken, extra={k: [live_system[k][i] for i in positions]
                                                          for k in SYSTEM_COLUMNS})
        gone = [archived[s[0]] for s in stale if s[3] == "retired"]
        if gone:
            current = self._with_retired(layer, current if current is not None else
                                         frame_from_raw(layer, RawRows(list(types), types,
                                                                       {c: [] for c in types}, []),
                                                        extra={k: [] for k in SYSTEM_COLUMNS}),
                                         gone, list(types), types, {})
        raise Conflict(layer, stale, current)

    def _apply_edit(self, tx, meta, rows, retire, live, live_raw, live_system, archived, when, actor,
                    reason) -> EditResult:
        layer, id_field = meta["name"], meta["id_field"]
        inserted, updated, revived, versions = [], [], [], {}
        audit = []
        if rows is not None:
            after_docs = row_documents(rows.columns, rows.values, rows.wkb)
            new_pos, upd_pos = [], []
            for i, feature in enumerate(rows.ids):
                if feature in live:
                    version = int(live_system["row_version"][live[feature]]) + 1
                    upd_pos.append(i)
                    updated.append(feature)
                    before = self._live_document(live_raw, live_system, live[feature])
                    action = "update"
                elif feature in archived:
                    version = int(archived[feature]["row_version"]) + 1
                    new_pos.append(i)
                    revived.append(feature)
                    before = self._archived_document(archived[feature])
                    action = "revive"
                else:
                    version, before, action = 1, None, "insert"
                    new_pos.append(i)
                    inserted.append(feature)
                versions[feature] = version
                after = {**after_docs[i], "row_version": version, "updated_at": when, "updated_by": actor}
                audit.append(dict(when=when, actor=actor, action=action, layer=layer, feature=feature,
                                  version=version, rows=1, detail=reason, before=documents_json([before])[0],
                                  after=documents_json([after])[0]))
            for positions, apply in ((upd_pos, tx.update), (new_pos, tx.insert)):
                if positions:
                    part = rows.take(positions)
                    apply(part, {"row_version": [versions[f] for f in part.ids], "updated_at": [when] * len(part),
                                 "updated_by": [actor] * len(part)})
            if revived:
                tx.unarchive(layer, revived)
        if retire:
            positions = [live[f] for f in retire]
            taken = RawRows(live_raw.columns, live_raw.types,
                            {c: [live_raw.values[c][i] for i in positions] for c in live_raw.columns},
                            [live_raw.wkb[i] for i in positions])
            entries = self._archive_entries(layer, id_field, taken,
                                            [live_system["row_version"][i] for i in positions], when, actor)
            for feature, position, entry in zip(retire, positions, entries):
                versions[feature] = entry["row_version"]
                audit.append(dict(when=when, actor=actor, action="retire", layer=layer, feature=feature,
                                  version=entry["row_version"], rows=1, detail=reason,
                                  before=documents_json([self._live_document(live_raw, live_system, position)])[0],
                                  after=None))
            tx.delete(layer, id_field, retire)
            tx.archive(layer, entries)
        version = int(meta["version"]) + 1
        tx.put_meta({**meta, "version": version, "updated_at": when,
                     "rows": int(meta["rows"]) + len(inserted) + len(revived) - len(retire),
                     "retired": int(meta.get("retired") or 0) + len(retire) - len(revived)})
        ids = tx.append_audit(audit)
        return EditResult(layer=layer, version=version, when=when, versions=versions, inserted=tuple(inserted),
                          updated=tuple(updated), retired=tuple(retire), revived=tuple(revived),
                          audit_ids=tuple(ids))

    @staticmethod
    def _live_document(raw: RawRows, system: dict, position: int) -> dict:
        doc = row_documents(raw.columns, {c: [raw.values[c][position]] for c in raw.columns}, [raw.wkb[position]],
                            {k: [system[k][position]] for k in SYSTEM_COLUMNS})
        return doc[0]

    @staticmethod
    def _archived_document(entry: dict) -> dict:
        doc = json.loads(entry["data"])
        doc["geometry"] = (shapely.to_wkt(shapely.from_wkb(entry["wkb"]), rounding_precision=-1)
                           if entry["wkb"] is not None else None)
        doc.update(row_version=entry["row_version"], retired_at=entry["retired_at"], retired_by=entry["retired_by"])
        return doc
