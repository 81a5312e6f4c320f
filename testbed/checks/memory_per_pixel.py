"""memory-per-pixel: service RSS grows by ~mem_per_pixel bytes per input
pixel for large images and barely for small ones."""
import time

from lib import Result, make_payloads, pixels_of, post, rss_bytes, tree


def check(bed, sc, work):
    res = Result()
    per_px = int(sc["service"]["mem_per_pixel"])
    n = int((sc.get("load") or {}).get("requests", 12))
    url = bed["target"]
    big, ctype = make_payloads(sc["payload"], work + "/big", count=4)
    small, _ = make_payloads("image:w=128..128,format=jpeg", work + "/small", count=1)
    pids = tree(bed["service"]["pid"])
    for f in big[:2] * 2:  # warm-up: decoder buffers, allocator arenas
        post(url, f, ctype)
    time.sleep(0.3)
    r0 = rss_bytes(pids)
    small_px = 0
    for i in range(n):
        st, _ = post(url, small[0], ctype)
        small_px += pixels_of(small[0])
    time.sleep(0.3)
    r1 = rss_bytes(pids)
    big_px = 0
    for i in range(n):
        f = big[i % len(big)]
        st, _ = post(url, f, ctype)
        res.expect(st == 200, f"request {i} answered") if st != 200 else None
        big_px += pixels_of(f)
    time.sleep(0.3)
    r2 = rss_bytes(pids)
    expected = big_px * per_px
    grew_big, grew_small = r2 - r1, r1 - r0
    res.fig("mem_per_pixel", per_px)
    res.fig("requests", n)
    res.fig("large_pixels_total", big_px)
    res.fig("rss_growth_large_mb", grew_big / 2**20)
    res.fig("expected_growth_mb", expected / 2**20)
    res.fig("growth_per_pixel", grew_big / max(1, big_px))
    res.fig("rss_growth_small_mb", grew_small / 2**20)
    res.expect(0.7 * expected < grew_big < 1.5 * expected,
               f"RSS grew {grew_big / 2**20:.0f} MiB for {big_px / 1e6:.1f} Mpx "
               f"(expected ~{expected / 2**20:.0f} MiB)")
    res.expect(grew_small < 0.1 * grew_big,
               f"small images grew RSS only {grew_small / 2**20:.1f} MiB")
    return res
