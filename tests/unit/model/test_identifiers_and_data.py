import pytest

from tradewire.model import BarSpecification, BarType, ClientOrderId, InstrumentId
from tradewire.model.enums import BarAggregation, PriceType


def test_instrument_id_splits_at_last_dot():
    iid = InstrumentId("BRK.B.XNYS")
    assert iid.symbol == "BRK.B"
    assert iid.venue == "XNYS"
    assert InstrumentId.from_parts("BTCUSDT", "BINANCE") == "BTCUSDT.BINANCE"


@pytest.mark.parametrize("bad", ["", "BTCUSDT", ".X", "X.", " A.B"])
def test_bad_instrument_ids(bad):
    with pytest.raises(ValueError):
        InstrumentId(bad)


def test_identifier_types_are_strings():
    cid = ClientOrderId("O-1")
    assert {cid: 1}["O-1"] == 1
    assert repr(cid) == "ClientOrderId('O-1')"


def test_bar_type_round_trip():
    bt = BarType.from_str("ES.CME-5-MINUTE-LAST")
    assert bt.spec == BarSpecification(5, BarAggregation.MINUTE, PriceType.LAST)
    assert str(bt) == "ES.CME-5-MINUTE-LAST"
    assert bt.spec.interval_ns == 300_000_000_000
    with pytest.raises(ValueError, match="bad bar specification"):
        BarSpecification.from_str("5-FORTNIGHT-LAST")
    with pytest.raises(ValueError, match="no fixed interval"):
        _ = BarSpecification(100, BarAggregation.TICK).interval_ns
