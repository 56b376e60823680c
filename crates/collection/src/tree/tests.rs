//! `PageTree::choose` and the groups, on hand-made pages.

use super::*;
use crate::page::CAP;

fn b(x0: f32, y0: f32, x1: f32, y1: f32) -> Bbox {
    Bbox {
        min: [x0, y0],
        max: [x1, y1],
    }
}

/// A linked page of `n` entries (slots from `first`) spanning `bx`.
fn page(t: &mut PageTree, bx: Bbox, n: usize, first: u32) -> u32 {
    page_solo(t, bx, n, first, false)
}

/// [`page`], solo or not (set before it is linked).
fn page_solo(t: &mut PageTree, bx: Bbox, n: usize, first: u32, solo: bool) -> u32 {
    let low = b(bx.min[0], bx.min[1], bx.min[0], bx.min[1]);
    let mut entries = vec![(low, first)];
    entries.push((b(bx.max[0], bx.max[1], bx.max[0], bx.max[1]), first + 1));
    entries.extend((2..n as u32).map(|i| (low, first + i)));
    let p = t.pages.insert(Page::new(&entries));
    t.pages.get_mut(p).solo = solo;
    t.link(p);
    p
}

fn at(x: f32, y: f32) -> Bbox {
    b(x, y, x, y)
}

#[test]
fn choose_takes_a_covering_page_with_room_else_the_nearest() {
    let mut t = PageTree::default();
    let left = page(&mut t, b(0.0, 0.0, 10.0, 10.0), 4, 0);
    let right = page(&mut t, b(20.0, 20.0, 30.0, 30.0), 4, 100);
    // Enough pages elsewhere for a tree of several levels.
    for i in 0..200u32 {
        let x = 100.0 + (i % 20) as f32 * 5.0;
        let y = (i / 20) as f32 * 5.0;
        page(&mut t, b(x, y, x + 4.0, y + 4.0), 8, 1000 + i * 10);
    }
    t.check();
    let search = |t: &PageTree, q: Bbox| t.search(&q).0;
    assert_eq!(search(&t, at(5.0, 5.0)), Some(left));
    assert_eq!(search(&t, at(25.0, 21.0)), Some(right));
    // Nested covering pages with room: the smaller.
    let inner = page(&mut t, b(2.0, 2.0, 6.0, 6.0), 4, 300);
    assert_eq!(search(&t, at(5.0, 5.0)), Some(inner));
    assert_eq!(search(&t, at(9.0, 9.0)), Some(left));
    // Covered by neither: the nearest.
    assert_eq!(search(&t, at(12.0, 12.0)), Some(left));
    assert_eq!(search(&t, at(19.0, 19.0)), Some(right));
}

/// The hint answers with the page a descent found for the same place
/// while that page still covers the box and has room, and never
/// otherwise: not once it is full, moved elsewhere or gone.
#[test]
fn a_hinted_page_is_taken_only_while_it_still_fits() {
    let mut t = PageTree::default();
    for i in 0..400u32 {
        let (x, y) = ((i % 20) as f32 * 5.0, (i / 20) as f32 * 5.0);
        page(&mut t, b(x, y, x + 4.0, y + 4.0), 8, 1000 + i * 10);
    }
    let q = at(51.0, 51.0);
    let first = t.choose(&q).expect("a page");
    assert!(t.hint.as_ref().is_some_and(|h| h.get(&q) == first));
    // A nested page with room: the hint keeps the first (both fit).
    let inner = page(&mut t, b(50.5, 50.5, 51.5, 51.5), 4, 300);
    assert_eq!(t.choose(&q), Some(first));
    // The first fills up: the descent again, and the hint follows it.
    while !t.pages.get(first).is_full() {
        let n = t.pages.get(first).len() as u32;
        t.pages.get_mut(first).push(50_000 + n, q);
    }
    assert_eq!(t.choose(&q), Some(inner));
    assert!(t.hint.as_ref().is_some_and(|h| h.get(&q) == inner));
    // The hinted page moves away, then is gone: never taken.
    t.rebox(inner, b(80.0, 80.0, 81.0, 81.0));
    assert_eq!(t.choose(&q), Some(first), "full covering page");
    t.unlink(inner);
    t.pages.remove(inner);
    assert_eq!(t.choose(&q), Some(first));
    t.check();
}

/// Overlapping pages of random sizes, some full, some solo, some
/// groups: whatever path the descent takes, `choose` gives a covering
/// page with room when one exists (in the first three pages of its
/// group), else a full covering page, else the nearest shared group.
#[test]
fn choose_finds_what_a_full_search_finds() {
    let mut seed = 38u64;
    let mut rnd = move |n: u32| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) % u64::from(n)) as f32
    };
    let mut t = PageTree::default();
    let mut all = Vec::new();
    for i in 0..600u32 {
        let (x, y) = (rnd(1000), rnd(1000));
        let (w, h) = (1.0 + rnd(60), 1.0 + rnd(60));
        let n = [2, 8, CAP][(i % 3) as usize];
        let p = page_solo(&mut t, b(x, y, x + w, y + h), n, i * 100, i % 17 == 0);
        all.push(p);
        if i % 29 == 0 {
            all.push(page(&mut t, b(x, y, x + w, y + h), 4, i * 100 + 50));
        }
    }
    t.check();
    let heads: Vec<u32> = t.rtree.iter().map(|r| r.page).collect();
    let pickable = |t: &PageTree, p: u32| heads.iter().any(|&h| t.group(h).take(3).any(|g| g == p));
    let d = |t: &PageTree, p: u32, q: &Bbox| t.pages.get(p).bbox.aabb().distance_2(&q.center());
    let (mut rooms, mut fulls, mut nearest) = (0, 0, 0);
    for _ in 0..3000 {
        let q = at(rnd(1100) - 50.0, rnd(1100) - 50.0);
        let covers = |t: &PageTree, p: u32| t.pages.get(p).bbox.aabb().contains_envelope(&q.aabb());
        let usable = |t: &PageTree, p: u32| pickable(t, p) && !t.pages.get(p).solo && covers(t, p);
        let room = all
            .iter()
            .any(|&p| usable(&t, p) && !t.pages.get(p).is_full());
        let full = all.iter().any(|&p| usable(&t, p));
        let got = t.choose(&q).expect("a page");
        let page = t.pages.get(got);
        assert!(!page.solo);
        if room {
            assert!(covers(&t, got) && !page.is_full(), "{q:?}");
            rooms += 1;
        } else if full {
            assert!(covers(&t, got) && page.is_full(), "{q:?}");
            fulls += 1;
        } else {
            // `heads` are the shared tree's: solo pages are not there.
            let best = heads.iter().map(|&h| d(&t, h, &q)).fold(f32::MAX, f32::min);
            assert_eq!(d(&t, got, &q), best, "{q:?}");
            nearest += 1;
        }
    }
    // Each case met often enough to mean something.
    assert!(
        rooms > 300 && fulls > 300 && nearest > 300,
        "{rooms} {fulls} {nearest}"
    );
}

#[test]
fn choose_prefers_room_and_never_a_solo_page() {
    let mut t = PageTree::default();
    let full = page(&mut t, b(0.0, 0.0, 10.0, 10.0), CAP, 0);
    page_solo(&mut t, b(-50.0, -50.0, 50.0, 50.0), 2, 100, true);
    // Only a full page covers the point: it is the one to split.
    assert_eq!(t.choose(&at(5.0, 5.0)), Some(full));
    let roomy = page(&mut t, b(2.0, 2.0, 8.0, 8.0), 4, 200);
    assert_eq!(t.choose(&at(5.0, 5.0)), Some(roomy));
    // Outside every shared page, inside the solo one: the nearest
    // shared page.
    assert_eq!(t.choose(&at(40.0, 40.0)), Some(full));
}

/// Solo pages are entries of the wide tree only, in groups of their own
/// even where a shared page has the same box; unlinking takes each from
/// its tree.
#[test]
fn solo_pages_live_in_the_wide_tree() {
    let mut t = PageTree::default();
    let shared = page(&mut t, b(-10.0, -10.0, 10.0, 10.0), 4, 0);
    let solo = page_solo(&mut t, b(-180.0, 0.0, 180.0, 1.0), 1, 100, true);
    let twin = page_solo(&mut t, b(-10.0, -10.0, 10.0, 10.0), 1, 200, true);
    t.check();
    assert_eq!((t.rtree.size(), t.wide.size()), (1, 2));
    assert_eq!(t.head(&b(-10.0, -10.0, 10.0, 10.0), false), Some(shared));
    assert_eq!(t.head(&b(-10.0, -10.0, 10.0, 10.0), true), Some(twin));
    t.unlink(solo);
    assert_eq!((t.rtree.size(), t.wide.size()), (1, 1));
    t.link(solo);
    t.unlink(shared);
    assert_eq!((t.rtree.size(), t.wide.size()), (0, 2));
    assert_eq!(t.choose(&at(0.0, 0.5)), None, "no shared page to take it");
}

/// The group [`PageTree::choose`] grows is a nearest one: as near as
/// `rstar`'s own nearest neighbour, over pseudo-random boxes and points
/// (a tree of many levels, boxes overlapping and apart).
#[test]
fn the_nearest_group_is_as_near_as_rstar_finds() {
    let mut t = PageTree::default();
    let mut seed = 7u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as f32 / (1u64 << 31) as f32
    };
    for i in 0..3000u32 {
        let (x, y) = (next() * 340.0 - 170.0, next() * 160.0 - 80.0);
        let (w, h) = (next() * 3.0, next() * 3.0);
        page(&mut t, b(x, y, x + w, y + h), CAP, i * 100);
    }
    t.check();
    for _ in 0..2000 {
        let p = [next() * 360.0 - 180.0, next() * 180.0 - 90.0];
        let want = t.rtree.nearest_neighbor(p).map(|r| r.bbox.distance_2(&p));
        let mut best = (f32::INFINITY, None);
        nearest_head(t.rtree.root(), &p, &mut best);
        let got = best.1.map(|h| t.pages.get(h).bbox.aabb().distance_2(&p));
        assert_eq!(got, want, "at {p:?}");
        // Full pages everywhere: nothing covers with room, so `choose`
        // falls back to the nearest group (or a full covering page).
        let chosen = t.choose(&at(p[0], p[1])).expect("a page");
        let bx = t.pages.get(chosen).bbox.aabb();
        assert!(bx.contains_point(&p) || bx.distance_2(&p) == want.unwrap());
    }
    let mut empty = PageTree::default();
    assert_eq!(empty.choose(&at(1.0, 1.0)), None);
}
