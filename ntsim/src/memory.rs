//! Simulated physical memory: page frames, and the host memory behind every simulated virtual
//! address range.
//!
//! Model: every simulated VA range is a real, page-aligned host allocation (a [`Region`]), so
//! driver code dereferences its pointers normally; the simulated VA *is* the host address. Each
//! page of a region is given a [`Pfn`]. Frames are drawn by a seeded scrambler in short runs of
//! 1-3 frames at random places, so consecutive VA pages are usually not physically contiguous
//! and sometimes are. Frames live in two banks, below 4 GiB (`0x100..0x10_0000`) and above
//! (`0x10_0000..0x50_0000`); no bank crosses the 4 GiB line, so no contiguous run does either.
//!
//! Invariants:
//! * `frames` holds exactly the frames of every region not yet deallocated, each once.
//! * `by_va` indexes exactly the regions that are still addressable (not freed). A region freed
//!   while MDL locks or DMA mappings still reference it (`lock_refs`/`dma_refs` > 0) leaves
//!   `by_va` but keeps its host memory and frames until the last reference goes, as locked
//!   pages do on Windows; so the device view never points at freed host memory.

use crate::types::{Pfn, Placement, UserProt, PAGE};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::collections::{BTreeMap, HashMap};

const LOW_BANK: (u64, u64) = (0x100, 0x10_0000);
const HIGH_BANK: (u64, u64) = (0x10_0000, 0x50_0000);

/// splitmix64: small, seedable, good enough to scatter frames deterministically.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub(crate) struct RegionId(pub u64);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RegionKind {
    Pool,
    User(UserProt),
    Contiguous,
    CommonBuffer,
    Bounce,
}

pub(crate) struct Region {
    pub kind: RegionKind,
    pub base: usize,
    pub pages: usize,
    pub pfns: Vec<Pfn>,
    pub lock_refs: u32,
    pub dma_refs: u32,
    pub freed: bool,
}

impl Region {
    pub(crate) fn end(&self) -> usize {
        self.base + self.pages * PAGE
    }
}

/// Frame constraints for an allocation.
#[derive(Clone, Copy)]
pub(crate) struct FrameRequest {
    pub placement: Placement,
    /// Highest acceptable frame, inclusive.
    pub max_pfn: u64,
    /// Lowest acceptable frame.
    pub min_pfn: u64,
    pub contiguous: bool,
    /// For contiguous runs: the run may not cross a multiple of this many frames (0 = none).
    pub boundary_pages: u64,
}

impl FrameRequest {
    pub(crate) fn scattered(placement: Placement) -> Self {
        Self {
            placement,
            max_pfn: u64::MAX,
            min_pfn: 0,
            contiguous: false,
            boundary_pages: 0,
        }
    }
    pub(crate) fn contiguous(placement: Placement, max_pfn: u64) -> Self {
        Self {
            placement,
            max_pfn,
            min_pfn: 0,
            contiguous: true,
            boundary_pages: 0,
        }
    }
}

pub(crate) struct PhysMem {
    pub regions: HashMap<RegionId, Region>,
    pub by_va: BTreeMap<usize, RegionId>,
    /// Frame -> (host page address, owning region).
    pub frames: HashMap<u64, (usize, RegionId)>,
    next_id: u64,
}

impl PhysMem {
    pub(crate) fn new() -> Self {
        Self {
            regions: HashMap::new(),
            by_va: BTreeMap::new(),
            frames: HashMap::new(),
            next_id: 1,
        }
    }

    fn banks(placement: Placement, req: &FrameRequest, rng: &mut Rng) -> Vec<(u64, u64)> {
        let clip = |(lo, hi): (u64, u64)| {
            let lo = lo.max(req.min_pfn);
            let hi = hi.min(req.max_pfn.saturating_add(1));
            (lo < hi).then_some((lo, hi))
        };
        let low = clip(LOW_BANK);
        let high = clip(HIGH_BANK);
        let order: Vec<Option<(u64, u64)>> = match placement {
            Placement::Below4G => vec![low, high],
            Placement::Above4G => vec![high, low],
            Placement::Interleaved => {
                if rng.below(2) == 0 {
                    vec![low, high]
                } else {
                    vec![high, low]
                }
            }
        };
        // A preference is only a preference: fall back to the other bank rather than fail,
        // except that Below4G never spills above (callers rely on it).
        let mut out: Vec<(u64, u64)> = order.into_iter().flatten().collect();
        if placement == Placement::Below4G {
            out.retain(|&(lo, _)| lo < Pfn::FOUR_GIB.0);
        }
        out
    }

    fn run_free(&self, start: u64, n: u64) -> bool {
        (start..start + n).all(|p| !self.frames.contains_key(&p))
    }

    fn find_run(&self, rng: &mut Rng, bank: (u64, u64), n: u64, boundary: u64) -> Option<u64> {
        let (lo, hi) = bank;
        if hi - lo < n {
            return None;
        }
        let crosses = |s: u64| boundary != 0 && s / boundary != (s + n - 1) / boundary;
        for _ in 0..64 {
            let s = lo + rng.below(hi - lo - n + 1);
            if !crosses(s) && self.run_free(s, n) {
                return Some(s);
            }
        }
        // Dense or unlucky: scan upwards from a random point, then wrap.
        let start = lo + rng.below(hi - lo - n + 1);
        (start..=hi - n)
            .chain(lo..start)
            .find(|&s| !crosses(s) && self.run_free(s, n))
    }

    fn pick_frames(&self, rng: &mut Rng, pages: usize, req: &FrameRequest) -> Option<Vec<Pfn>> {
        let mut out = Vec::with_capacity(pages);
        let mut taken: Vec<u64> = Vec::new();
        while out.len() < pages {
            let want = if req.contiguous {
                pages
            } else {
                (1 + rng.below(3) as usize).min(pages - out.len())
            };
            let mut got = None;
            for bank in Self::banks(req.placement, req, rng) {
                if let Some(s) = self.find_run(rng, bank, want as u64, req.boundary_pages) {
                    if !(s..s + want as u64).any(|p| taken.contains(&p)) {
                        got = Some(s);
                        break;
                    }
                }
            }
            let s = got?;
            for p in s..s + want as u64 {
                taken.push(p);
                out.push(Pfn(p));
            }
        }
        Some(out)
    }

    /// Allocates `pages` zeroed host pages with frames. None if the frames can't be found.
    pub(crate) fn alloc(
        &mut self,
        rng: &mut Rng,
        kind: RegionKind,
        pages: usize,
        req: FrameRequest,
    ) -> Option<RegionId> {
        let pages = pages.max(1);
        let pfns = self.pick_frames(rng, pages, &req)?;
        let layout = Layout::from_size_align(pages * PAGE, PAGE).ok()?;
        // SAFETY: the layout has non-zero size (pages >= 1).
        let base = unsafe { alloc_zeroed(layout) } as usize;
        if base == 0 {
            return None;
        }
        let id = RegionId(self.next_id);
        self.next_id += 1;
        for (i, pfn) in pfns.iter().enumerate() {
            self.frames.insert(pfn.0, (base + i * PAGE, id));
        }
        self.by_va.insert(base, id);
        self.regions.insert(
            id,
            Region {
                kind,
                base,
                pages,
                pfns,
                lock_refs: 0,
                dma_refs: 0,
                freed: false,
            },
        );
        Some(id)
    }

    /// The live region containing `va`.
    pub(crate) fn region_at(&self, va: usize) -> Option<(RegionId, &Region)> {
        let (_, id) = self.by_va.range(..=va).next_back()?;
        let r = &self.regions[id];
        (va < r.end()).then_some((*id, r))
    }

    /// Frame and host page of the page containing `va`, if `va` is live memory.
    pub(crate) fn translate(&self, va: usize) -> Option<(Pfn, RegionId)> {
        let (id, r) = self.region_at(va)?;
        Some((r.pfns[(va - r.base) / PAGE], id))
    }

    /// Host page address of a frame.
    pub(crate) fn frame_host(&self, pfn: Pfn) -> Option<(usize, RegionId)> {
        self.frames.get(&pfn.0).copied()
    }

    /// Marks a region freed; deallocates now unless something still references it.
    pub(crate) fn free(&mut self, id: RegionId) {
        let Some(r) = self.regions.get_mut(&id) else {
            return;
        };
        if !r.freed {
            r.freed = true;
            self.by_va.remove(&r.base);
        }
        self.reap(id);
    }

    /// Deallocates a freed region once nothing references it.
    pub(crate) fn reap(&mut self, id: RegionId) {
        let Some(r) = self.regions.get(&id) else {
            return;
        };
        if !r.freed || r.lock_refs > 0 || r.dma_refs > 0 {
            return;
        }
        let r = self.regions.remove(&id).expect("checked above");
        for pfn in &r.pfns {
            self.frames.remove(&pfn.0);
        }
        let layout = Layout::from_size_align(r.pages * PAGE, PAGE).expect("valid when allocated");
        // SAFETY: `base` came from `alloc_zeroed` with this layout and is deallocated only here,
        // once, after every reference (lock or DMA mapping) is gone.
        unsafe { dealloc(r.base as *mut u8, layout) };
    }

    pub(crate) fn add_ref(&mut self, id: RegionId, dma: bool) {
        if let Some(r) = self.regions.get_mut(&id) {
            if dma {
                r.dma_refs += 1;
            } else {
                r.lock_refs += 1;
            }
        }
    }

    pub(crate) fn drop_ref(&mut self, id: RegionId, dma: bool) {
        if let Some(r) = self.regions.get_mut(&id) {
            if dma {
                r.dma_refs = r.dma_refs.saturating_sub(1);
            } else {
                r.lock_refs = r.lock_refs.saturating_sub(1);
            }
        }
        self.reap(id);
    }
}

impl Drop for PhysMem {
    fn drop(&mut self) {
        for (_, r) in self.regions.drain() {
            let layout =
                Layout::from_size_align(r.pages * PAGE, PAGE).expect("valid when allocated");
            // SAFETY: every remaining region still owns its host allocation; the machine is gone,
            // so nothing can reach it any more.
            unsafe { dealloc(r.base as *mut u8, layout) };
        }
    }
}
