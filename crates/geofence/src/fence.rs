//! A fence definition: what one hook, channel or live `… FENCE` command
//! watches and how its events look, as Tile38 1.37 keeps it in
//! `liveFenceSwitches` + `scanWriter` (`hooks.go:cmdSetHook`,
//! `search.go:cmdSearchArgs`, `token.go:parseSearchScanBaseTokens`).
//!
//! The engine parses the command (`SETCHAN`/`SETHOOK`/`NEARBY|WITHIN|
//! INTERSECTS … FENCE`) and fills a [`FenceSpec`]; [`Fence::new`] then
//! precomputes what every event of the fence repeats (the escaped `hook`
//! and `meta` members, the key, the area's box and centre), so evaluating
//! a change does no per-fence string work.

use tile38_collection::Item;
use tile38_geo::predicate::Area;
use tile38_geo::{Position, Rect};
use tile38_proto::fmt::write_json_str;

/// A detection kind (the `detect` member of an event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detect {
    Inside,
    Outside,
    Enter,
    Exit,
    Cross,
    /// ROAM fences only; never part of a `DETECT` list.
    Roam,
}

impl Detect {
    pub fn as_str(self) -> &'static str {
        match self {
            Detect::Inside => "inside",
            Detect::Outside => "outside",
            Detect::Enter => "enter",
            Detect::Exit => "exit",
            Detect::Cross => "cross",
            Detect::Roam => "roam",
        }
    }

    /// `aof.go:msgDetectCode`: the weight channel and webhook messages of
    /// one command are sorted by (cross/roam/none first).
    pub fn sort_code(detect: Option<Detect>) -> u8 {
        match detect {
            Some(Detect::Exit) => 1,
            Some(Detect::Outside) => 2,
            Some(Detect::Enter) => 3,
            Some(Detect::Inside) => 4,
            _ => 0,
        }
    }

    /// One `DETECT` list part, already trimmed and lower-cased.
    pub fn parse(word: &[u8]) -> Option<Detect> {
        Some(match word {
            b"inside" => Detect::Inside,
            b"outside" => Detect::Outside,
            b"enter" => Detect::Enter,
            b"exit" => Detect::Exit,
            b"cross" => Detect::Cross,
            _ => return None,
        })
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A `DETECT` list. A fence without one has `None` (everything, with the
/// enter→inside and exit/cross→outside companions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetectSet(u8);

impl DetectSet {
    pub fn insert(&mut self, d: Detect) {
        self.0 |= d.bit();
    }

    pub fn contains(self, d: Detect) -> bool {
        self.0 & d.bit() != 0
    }

    /// `inside,outside,…`: comma-separated, each part trimmed and
    /// lower-cased; `None` if a part is not a detect kind (the engine
    /// reports that and repeats itself).
    pub fn parse_list(list: &[u8]) -> Option<DetectSet> {
        let mut set = DetectSet::default();
        for part in list.split(|&b| b == b',') {
            set.insert(Detect::parse(&part.trim_ascii().to_ascii_lowercase())?);
        }
        Some(set)
    }
}

/// `None` (no `DETECT`) or a list containing `d`.
pub(crate) fn detects(set: Option<DetectSet>, d: Detect) -> bool {
    set.is_none_or(|s| s.contains(d))
}

/// The command an event reports (`command` member).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// SET, and JSET/JDEL on a spatial object.
    Set,
    Fset,
    Expire,
    Persist,
    /// DEL, each PDEL child, background expiry.
    Del,
    Drop,
}

impl Command {
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Set => "set",
            Command::Fset => "fset",
            Command::Expire => "expire",
            Command::Persist => "persist",
            Command::Del => "del",
            Command::Drop => "drop",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A `COMMANDS` list. Tile38 does not validate it: a name no event
/// carries is kept but can never match, so it is simply not stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommandSet(u8);

impl CommandSet {
    pub fn insert(&mut self, c: Command) {
        self.0 |= c.bit();
    }

    pub fn contains(self, c: Command) -> bool {
        self.0 & c.bit() != 0
    }

    /// `set,del,…`: comma-separated, trimmed, lower-cased.
    pub fn parse_list(list: &[u8]) -> CommandSet {
        let mut set = CommandSet::default();
        for part in list.split(|&b| b == b',') {
            let word = part.trim_ascii().to_ascii_lowercase();
            let all = [
                Command::Set,
                Command::Fset,
                Command::Expire,
                Command::Persist,
                Command::Del,
                Command::Drop,
            ];
            if let Some(c) = all.into_iter().find(|c| c.as_str().as_bytes() == word) {
                set.insert(c);
            }
        }
        set
    }
}

/// The payload form of set-like events (the search output keyword).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// `OBJECTS` (the default): `"object":<GeoJSON>`.
    Objects,
    /// `POINTS`: `"point":{"lat","lon"[,"z"]}` of the centre.
    Points,
    /// `BOUNDS`: `"bounds":{"sw":…,"ne":…}`.
    Bounds,
    /// `HASHES n` (1..=12): `"hash":"…"` of the centre.
    Hashes(u8),
    /// `IDS`: the id only, never fields.
    Ids,
    /// `COUNT`: set-like events produce no message; del and drop still do.
    Count,
}

/// `ROAM key pattern meters [SCAN pattern]`.
#[derive(Clone, Debug)]
pub struct Roam {
    /// The collection searched for nearby objects.
    pub key: Vec<u8>,
    /// A glob when it has `*`, `?` or `[`, else an exact id.
    pub id: Vec<u8>,
    pub meters: f64,
    /// `SCAN pattern`: each nearby object lists the objects whose id
    /// matches `<its id><pattern>`.
    pub scan: Option<Vec<u8>>,
}

/// What a fence tests objects against.
#[derive(Clone, Debug)]
pub enum Region {
    /// `WITHIN … <area>`: the object lies within the area.
    Within(Area),
    /// `INTERSECTS … <area>`: the object meets the area.
    Intersects(Area),
    /// `NEARBY … POINT lat lon meters`: the object meets the circle
    /// (`Area::Circle`).
    Nearby(Area),
    /// `NEARBY … ROAM …`: no area; nearby/faraway objects instead.
    Roam(Roam),
}

/// Where a fence's messages go; decides sorting (§8.2), candidate rules
/// (§8.1) and whether removing the fence drops its groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// SETCHAN: published to the channel named like the fence.
    Channel,
    /// SETHOOK: queued for the hook's endpoints.
    Hook,
    /// A live `… FENCE` connection (hook name `""`).
    Live,
}

/// WHERE / WHEREIN / WHEREEVAL of a fence: whether an object passes
/// (`scanner.go:testObject` without MATCH, which the fence does itself).
pub trait ObjectFilter: Send + Sync {
    fn test(&self, id: &[u8], item: &Item) -> bool;
}

impl<F: Fn(&[u8], &Item) -> bool + Send + Sync> ObjectFilter for F {
    fn test(&self, id: &[u8], item: &Item) -> bool {
        self(id, item)
    }
}

/// Everything a fence is made of, as the engine parsed it.
pub struct FenceSpec {
    pub target: Target,
    /// The hook or channel name; empty for live fences.
    pub name: Vec<u8>,
    /// The watched key.
    pub key: Vec<u8>,
    pub region: Region,
    pub detect: Option<DetectSet>,
    pub commands: Option<CommandSet>,
    pub output: Output,
    /// `MATCH` patterns (ORed); empty matches everything.
    pub matches: Vec<Vec<u8>>,
    /// WHERE/WHEREIN/WHEREEVAL; `None` passes everything.
    pub filter: Option<Box<dyn ObjectFilter>>,
    pub nofields: bool,
    /// `DISTANCE`: a `"distance"` member (meters to the area's centre).
    pub distance: bool,
    /// `NODWELL` (ROAM): no repeated `nearby` while staying near.
    pub nodwell: bool,
    /// `META name value` pairs (sorted and deduplicated by [`Fence::new`]).
    pub metas: Vec<(Vec<u8>, Vec<u8>)>,
}

impl FenceSpec {
    /// A spec with Tile38's defaults: no DETECT, no COMMANDS, OBJECTS
    /// output, no filters, no META.
    pub fn new(target: Target, name: &[u8], key: &[u8], region: Region) -> FenceSpec {
        FenceSpec {
            target,
            name: name.to_vec(),
            key: key.to_vec(),
            region,
            detect: None,
            commands: None,
            output: Output::Objects,
            matches: Vec::new(),
            filter: None,
            nofields: false,
            distance: false,
            nodwell: false,
            metas: Vec::new(),
        }
    }
}

/// A fence ready for evaluation.
pub struct Fence {
    spec: FenceSpec,
    /// `,"hook":<name>` (not for live fences) and `,"meta":{…}`
    /// (`fence.go:appendHookDetails`).
    pub(crate) hook_json: Box<[u8]>,
    /// `,"key":<key>`.
    pub(crate) key_json: Box<[u8]>,
    /// The area's box (`None` for ROAM).
    pub(crate) bbox: Option<Rect>,
    /// The area's centre, for `DISTANCE` (`None` for ROAM).
    pub(crate) center: Option<Position>,
    /// The ROAM id is a glob (`glob.IsGlob`).
    pub(crate) roam_glob: bool,
}

impl Fence {
    pub fn new(mut spec: FenceSpec) -> Fence {
        // Last value of a repeated name wins, then name order (cmdSetHook
        // collects META into a map and sorts it).
        spec.metas.reverse();
        spec.metas.sort_by(|a, b| a.0.cmp(&b.0));
        spec.metas.dedup_by(|a, b| a.0 == b.0);
        let mut hook_json = Vec::new();
        if !spec.name.is_empty() {
            hook_json.extend_from_slice(b",\"hook\":");
            write_json_str(&mut hook_json, &spec.name);
        }
        if !spec.metas.is_empty() {
            hook_json.extend_from_slice(b",\"meta\":{");
            for (i, (k, v)) in spec.metas.iter().enumerate() {
                if i > 0 {
                    hook_json.push(b',');
                }
                write_json_str(&mut hook_json, k);
                hook_json.push(b':');
                write_json_str(&mut hook_json, v);
            }
            hook_json.push(b'}');
        }
        let mut key_json = b",\"key\":".to_vec();
        write_json_str(&mut key_json, &spec.key);
        let (bbox, center, roam_glob) = match &spec.region {
            Region::Within(a) | Region::Intersects(a) | Region::Nearby(a) => {
                (Some(a.bbox()), Some(area_center(a)), false)
            }
            Region::Roam(r) => (None, None, r.id.iter().any(|b| b"*?[".contains(b))),
        };
        Fence {
            spec,
            hook_json: hook_json.into(),
            key_json: key_json.into(),
            bbox,
            center,
            roam_glob,
        }
    }

    pub fn spec(&self) -> &FenceSpec {
        &self.spec
    }

    pub fn name(&self) -> &[u8] {
        &self.spec.name
    }

    pub fn key(&self) -> &[u8] {
        &self.spec.key
    }

    pub fn target(&self) -> Target {
        self.spec.target
    }

    /// Whether Tile38 evaluates the fence for every change of its key
    /// (`hooksOut`: no DETECT, or one with `outside`); only those get
    /// `drop` events and `del` events of objects anywhere.
    pub fn sees_everything(&self) -> bool {
        detects(self.spec.detect, Detect::Outside)
    }

    /// MATCH on an object id (`fence.go:multiGlobMatch`).
    pub(crate) fn id_matches(&self, id: &[u8]) -> bool {
        let m = &self.spec.matches;
        m.is_empty() || m.iter().any(|p| tile38_collection::glob::matches(p, id))
    }

    /// WHERE/WHEREIN/WHEREEVAL on an object.
    pub(crate) fn passes(&self, id: &[u8], item: &Item) -> bool {
        self.spec.filter.as_ref().is_none_or(|f| f.test(id, item))
    }
}

/// The centre `Object.Distance` measures to: a circle's centre, else the
/// centre of the area's value (box centre for non-points).
fn area_center(a: &Area) -> Position {
    match a {
        Area::Circle { center, .. } => *center,
        Area::Value(v) => v.center(),
    }
}

impl std::fmt::Debug for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fence")
            .field("target", &self.spec.target)
            .field("name", &String::from_utf8_lossy(&self.spec.name))
            .field("key", &String::from_utf8_lossy(&self.spec.key))
            .field("region", &self.spec.region)
            .finish_non_exhaustive()
    }
}
