"""Contingent orders: OTO (brackets) and OCO/OUO links, managed by the `ExecutionEngine`.

Semantics (links live in ``OrderInitialized``: ``parent_order_id``, ``linked_order_ids``,
``contingency_type``):

* **OTO** (one-triggers-other, a bracket's entry): children (orders whose ``parent_order_id`` is the
  entry) are held locally, INITIALIZED, until the entry fills. The first (partial) fill releases them
  sized to the entry's filled quantity; later fills resize them to the new filled quantity. An entry
  that closes with nothing filled (canceled, expired, rejected, denied) cancels its held children.
* **OCO** (one-cancels-other): a full fill of one order cancels its linked orders; a partial fill
  reduces each linked order to the same remaining quantity (its own filled quantity plus the filled
  order's leaves); an order closing unfilled (canceled, expired, rejected) cancels its linked orders.
* **OUO** (one-updates-other): like OCO for fills, but closing unfilled leaves the others alone.

Both rules together give every contingent order a *desired quantity* (:meth:`ContingencyManager.desired_raw`):
its OTO parent's filled quantity (else its own), reduced by each partly filled OCO/OUO sibling to
``own filled + sibling's remaining``. So after a partial take-profit the stop-loss covers exactly
what is left of the position, also while the entry is still filling.

Cancels and resizes of orders at a venue go through the engine (``OrderPendingCancel`` /
``OrderPendingUpdate`` then the client); held or emulated orders change locally. A resize that
cannot be sent because another modify is in flight is retried when that one is acknowledged
(``OrderUpdated``); a rejected resize is not retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from tradewire.model.enums import ContingencyType, OrderStatus
from tradewire.model.events import OrderUpdated
from tradewire.model.identifiers import ClientOrderId
from tradewire.model.objects import Quantity
from tradewire.model.orders import Order

if TYPE_CHECKING:
    from tradewire.execution.engine import ExecutionEngine

_OTO: Final = ContingencyType.OTO
_CANCELS: Final = frozenset({ContingencyType.OCO})
_UPDATES: Final = frozenset({ContingencyType.OCO, ContingencyType.OUO})


class ContingencyManager:
    """Holds contingent children and reacts to fills and closes of linked orders.

    Parameters
    ----------
    engine : ExecutionEngine
        Used to cancel, modify and release orders and to read the cache.
    """

    def __init__(self, engine: ExecutionEngine) -> None:
        self.engine = engine
        self._held: dict[ClientOrderId, Order] = {}

    # -- holding ----------------------------------------------------------------------------------
    def is_held(self, order: Order) -> bool:
        """True if ``order`` waits for its parent to fill."""
        return order.client_order_id in self._held

    def hold(self, order: Order) -> None:
        """Hold ``order`` until its parent fills."""
        self._held[order.client_order_id] = order

    def unhold(self, order: Order) -> None:
        """Stop holding ``order`` (no error if absent)."""
        self._held.pop(order.client_order_id, None)

    def held(self) -> list[Order]:
        """Orders currently held."""
        return list(self._held.values())

    def should_hold(self, order: Order) -> bool:
        """Decide for a child about to be routed: True = held (or canceled), False = route it now.

        A child whose parent already filled is first resized to the parent's filled quantity.
        """
        parent = self.engine.cache.orders.get(order.parent_order_id)  # type: ignore[arg-type]
        if parent is None:
            return False
        filled = parent.filled_qty
        if filled.raw:
            if order.quantity.raw != filled.raw:
                self.engine._local(order, OrderUpdated, quantity=filled)
            return False
        if parent.is_closed:
            self.engine.cancel(order, reason=f"parent {parent.client_order_id} {parent.status.value} unfilled")
            return True
        self.hold(order)
        return True

    # -- reactions --------------------------------------------------------------------------------
    def _base_raw(self, order: Order) -> int:
        """Quantity ``order`` should have before OCO reductions: its OTO parent's filled quantity, else its own."""
        pid = order.parent_order_id
        if pid is not None:
            parent = self.engine.cache.orders.get(pid)
            if parent is not None and parent.contingency_type is _OTO and parent.filled_qty.raw:
                return parent.filled_qty.raw
        return order.quantity.raw

    def desired_raw(self, order: Order) -> int:
        """Quantity raw ``order`` should have now.

        Its base (the OTO parent's filled quantity, else its own quantity), reduced for every open
        OCO/OUO sibling that has partly filled to ``own filled + sibling's remaining``.
        """
        want = self._base_raw(order)
        if order.contingency_type in _UPDATES:
            cache = self.engine.cache.orders
            for sid in order.linked_order_ids:
                sib = cache.get(sid)
                if sib is not None and not sib.is_closed and sib.filled_qty.raw:
                    want = min(want, order.filled_qty.raw + self._base_raw(sib) - sib.filled_qty.raw)
        return want

    def _resize(self, order: Order) -> None:
        want = self.desired_raw(order)
        if want == order.quantity.raw:
            return
        if want <= order.filled_qty.raw:
            self.engine.cancel(order, reason="contingent order has nothing left")
        else:
            self.engine.modify(order, quantity=Quantity.from_raw(want, order.quantity.precision))

    def resync(self, order: Order) -> None:
        """After a venue acknowledged a modify: resize again if fills meanwhile changed the target."""
        if not order.is_closed and order.status is not OrderStatus.PENDING_UPDATE:
            want = self.desired_raw(order)
            if want != order.quantity.raw and want > order.filled_qty.raw:
                self._resize(order)

    # -- reactions --------------------------------------------------------------------------------
    def on_fill(self, order: Order) -> None:
        """React to a (partial) fill of ``order`` according to its contingency type."""
        cache = self.engine.cache.orders
        ct = order.contingency_type
        if ct is _OTO:
            for cid in order.linked_order_ids:
                child = cache.get(cid)
                if child is None or child.is_closed or child.parent_order_id != order.client_order_id:
                    continue
                if cid in self._held:
                    del self._held[cid]
                    want = self.desired_raw(child)
                    if child.quantity.raw != want:
                        qty = Quantity.from_raw(want, child.quantity.precision)
                        self.engine._local(child, OrderUpdated, quantity=qty)
                    self.engine.release(child)
                else:
                    self._resize(child)
        elif ct in _UPDATES:
            done = order.status is OrderStatus.FILLED
            for sid in order.linked_order_ids:
                sib = cache.get(sid)
                if sib is None or sib.is_closed:
                    continue
                if done:
                    self.engine.cancel(sib, reason=f"{ct.value.upper()}: {order.client_order_id} filled")
                else:
                    self._resize(sib)

    def on_closed(self, order: Order) -> None:
        """React to ``order`` closing without a fill event (canceled, expired, rejected, denied)."""
        cache = self.engine.cache.orders
        ct = order.contingency_type
        if ct is _OTO:
            if order.filled_qty.raw:
                return
            for cid in order.linked_order_ids:
                child = cache.get(cid)
                if child is not None and not child.is_closed and child.parent_order_id == order.client_order_id:
                    self.unhold(child)
                    self.engine.cancel(child, reason=f"parent {order.client_order_id} {order.status.value} unfilled")
        elif ct in _CANCELS and order.status is not OrderStatus.FILLED:
            for sid in order.linked_order_ids:
                sib = cache.get(sid)
                if sib is not None and not sib.is_closed:
                    self.engine.cancel(sib, reason=f"OCO: {order.client_order_id} {order.status.value}")


__all__ = ["ContingencyManager"]
