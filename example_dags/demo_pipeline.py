"""The README's demo: a small pipeline on the embedded defaults (SQLite catalog, local store).

Run it with ``bash scripts/demo.sh``. Everything lands under ``./.cargohold/``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from cargohold import Cargohold, Literal


def extract(day: dt.date) -> pd.DataFrame:
    rng = np.random.default_rng(day.toordinal())
    return pd.DataFrame(
        {
            "order_id": np.arange(100_000),
            "amount": rng.gamma(2.0, 20.0, 100_000).round(2),
            "region": pd.Categorical(rng.choice(["north", "south", "east", "west"], 100_000)),
            "at": pd.date_range(str(day), periods=100_000, freq="s", tz="UTC"),
        }
    )


def main() -> None:
    hold = Cargohold.from_env()
    day = dt.date(2026, 11, 1)
    print(f"store:   {hold.settings.store_url}")
    print(f"catalog: {hold.settings.catalog_url}")

    orders = hold.put(extract(day))  # offloaded: a Parquet blob in the store
    message = orders.to_json()  # what an XCom or IO manager would carry
    print(
        f"\nthe reference that travels between tasks ({len(message)} bytes):\n  {message[:160]}..."
    )

    reread = Literal.from_json(message)
    amounts = hold.get(reread, columns=["region", "amount"])  # reads two columns only
    summary = amounts.groupby("region", observed=True)["amount"].sum().round(2)
    totals = hold.put(summary.to_dict())  # small: stays inline
    print(f"\nsummary literal (inline={totals.is_inline}, hash={totals.hash[:16]}):")
    for region, total in hold.get(totals).items():
        print(f"  {region:<6} {total:>14,.2f}")


if __name__ == "__main__":
    main()
