"""The crawl benchmarks' generated site: PAGES news pages made of the seed post's text, each with
four images of random bytes (as incompressible as JPEG data), an index linking every page and
a slice page linking the first SLICE; served by nginx in scripts/bench-crawl and
scripts/bench-dictionary.

    python3 scripts/crawl_site.py ROOT PAGES SLICE
"""
import os, random, sys
root, pages, slice_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{root}/img", exist_ok=True)
seed = open("src/demo/2023-03-21-cna-xi-putin-talks.md", encoding="utf-8").read()
body = seed[seed.index("<div>"):]
rng = random.Random(20230322)
links = "".join(f'<li><a href="/p{i:05}.html">news {i}</a></li>' for i in range(pages))
open(f"{root}/index.html", "w").write(f"<html><head><title>index</title></head><body><ul>{links}</ul></body></html>")
links = "".join(f'<li><a href="/p{i:05}.html">news {i}</a></li>' for i in range(slice_))
open(f"{root}/slice.html", "w").write(f"<html><head><title>slice</title></head><body><ul>{links}</ul></body></html>")
open(f"{root}/style.css", "w").write("body{font-family:serif;max-width:40em;margin:auto}\n" * 20)
for i in range(pages):
    imgs = "".join(f'<img src="/img/{i:05}_{k}.jpg" alt="photo {k}">' for k in range(4))
    text = body[: 3000 + rng.randrange(len(body) - 3000)]
    open(f"{root}/p{i:05}.html", "w", encoding="utf-8").write(
        f'<html><head><meta charset="utf-8"><title>news {i}</title><link rel="stylesheet" href="/style.css"></head>'
        f"<body><h1>news {i}</h1>{imgs}{text}</body></html>")
    for k in range(4):
        with open(f"{root}/img/{i:05}_{k}.jpg", "wb") as f:
            f.write(os.urandom(4000 + rng.randrange(20000)))
