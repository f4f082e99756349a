#!/usr/bin/env python3
"""Writes a small synthetic shop log in RecBole's atomic format: a log unlike MovieLens, used in
README ("Event dropout") to check that what holds on ML-1M is not fitted to it.

    python3 scripts/synth-shop-log.py OUT_DIR    # OUT_DIR/shop.item, OUT_DIR/shop.inter

400 users and 240 items ("thing number N for <category>", one or two of six categories, some
prices missing). Each user has a favourite category and 8-40 events: 60% an item of that
category, else a walk through the catalogue (the next item is 1-3 places on). Half the events
happen on a random surface (home / search / cart), the rest on search every third event and on
home otherwise; the gaps between events are random (10 s to 83 min). So the item sequence
carries the signal, and the events' surfaces and times are mostly noise. Seeded: the same file
every time.
"""
import os
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
os.makedirs(out, exist_ok=True)
random.seed(1)
cats = ["books", "toys", "garden", "music", "tools", "food"]
items = []
with open(os.path.join(out, "shop.item"), "w") as f:
    f.write("item_id:token\titem_name:token_seq\tcategories:token_seq\tprice:float\n")
    for i in range(240):
        c = random.sample(cats, random.choice([1, 2]))
        price = "" if i % 17 == 0 else f"{random.uniform(1, 90):.2f}"
        f.write(f"P{i:04d}\tthing number {i} for {c[0]}\t{' '.join(c)}\t{price}\n")
        items.append((f"P{i:04d}", c[0]))
with open(os.path.join(out, "shop.inter"), "w") as f:
    f.write("user_id:token\titem_id:token\ttimestamp:float\tscene:token\n")
    for u in range(400):
        fav = random.choice(cats)
        t = 1600000000 + random.randint(0, 10**6)
        n = random.randint(8, 40)
        pos = random.randrange(240)
        for k in range(n):
            if random.random() < 0.6:
                it = random.choice([it for it in items if it[1] == fav])
            else:
                pos = (pos + random.choice([1, 2, 3])) % 240
                it = items[pos]
            noise = random.random() < 0.5
            scene = random.choice(["home", "search", "cart"]) if noise else ("search" if k % 3 == 0 else "home")
            t += random.randint(10, 5000)
            f.write(f"u{u}\t{it[0]}\t{t}\t{scene}\n")
