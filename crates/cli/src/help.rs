//! The prompt's `help`, `help <command>` and `help @<group>`, and the tab
//! completion of command names and help topics. The syntax lines follow
//! Tile38's command reference (`lat lon` order, `(A)|(B)` alternatives).

/// `(name, group, arguments, summary)` of every command Tile38 documents.
const COMMANDS: &[(&str, &str, &str, &str)] = &[
    ("SET", "keys", "key id [FIELD name value ...] [EX seconds] [NX|XX] (OBJECT geojson)|(POINT lat lon [z])|(BOUNDS minlat minlon maxlat maxlon)|(HASH geohash)|(STRING value)", "Sets the value of an id"),
    ("GET", "keys", "key id [WITHFIELDS] [OBJECT|POINT|BOUNDS|(HASH geohash)]", "Get the object of an id"),
    ("DEL", "keys", "key id [ERRON404]", "Delete an id from a key"),
    ("PDEL", "keys", "key pattern", "Removes objects that match a specified pattern"),
    ("DROP", "keys", "key", "Remove a key from the database"),
    ("FLUSHDB", "keys", "", "Removes all keys"),
    ("RENAME", "keys", "key newkey", "Rename a key to be stored under a different name"),
    ("RENAMENX", "keys", "key newkey", "Rename a key, only if the new key does not exist"),
    ("KEYS", "keys", "pattern", "Finds all keys matching the given pattern"),
    ("TYPE", "keys", "key", "Returns the type of a key"),
    ("EXISTS", "keys", "key id", "Checks to see if an id exists"),
    ("FEXISTS", "keys", "key id field", "Checks to see if a field exists on an id"),
    ("BOUNDS", "keys", "key", "Get the combined bounds of all the objects in a key"),
    ("STATS", "keys", "key [key ...]", "Show stats for one or more keys"),
    ("FSET", "keys", "key id [XX] field value [field value ...]", "Set the value for one or more fields of an id"),
    ("FGET", "keys", "key id field", "Gets the value of a field of an id"),
    ("EXPIRE", "keys", "key id seconds", "Set a timeout on an id"),
    ("PERSIST", "keys", "key id", "Remove the existing timeout on an id"),
    ("TTL", "keys", "key id", "Get a timeout on an id"),
    ("JSET", "keys", "key id path value [RAW|STR]", "Set a value in a JSON document"),
    ("JGET", "keys", "key id path [RAW]", "Get a value from a JSON document"),
    ("JDEL", "keys", "key id path", "Delete a value from a JSON document"),
    ("SCAN", "search", "key [CURSOR start] [LIMIT count] [MATCH pattern] [ASC|DESC] [WHERE field min max ...] [WHEREIN field count value ...] [NOFIELDS] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES precision)]", "Incrementally iterate though a key"),
    ("SEARCH", "search", "key [CURSOR start] [LIMIT count] [MATCH pattern] [ASC|DESC] [WHERE field min max ...] [NOFIELDS] [COUNT|IDS]", "Search for string values in a key"),
    ("NEARBY", "search", "key [CURSOR start] [LIMIT count] [SPARSE spread] [MATCH pattern] [DISTANCE] [WHERE field min max ...] [NOFIELDS] [FENCE] [DETECT what] [COMMANDS which] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES precision)] (POINT lat lon [meters])|(ROAM key pattern meters)", "Searches for objects near a point"),
    ("WITHIN", "search", "key [CURSOR start] [LIMIT count] [SPARSE spread] [MATCH pattern] [WHERE field min max ...] [NOFIELDS] [FENCE] [DETECT what] [COMMANDS which] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES precision)] (GET key id)|(BOUNDS minlat minlon maxlat maxlon)|(OBJECT geojson)|(CIRCLE lat lon meters)|(TILE x y z)|(QUADKEY quadkey)|(HASH geohash)|(SECTOR lat lon meters bearing1 bearing2)", "Searches for objects within an area"),
    ("INTERSECTS", "search", "key [CURSOR start] [LIMIT count] [SPARSE spread] [MATCH pattern] [WHERE field min max ...] [CLIP] [NOFIELDS] [FENCE] [DETECT what] [COMMANDS which] [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES precision)] (GET key id)|(BOUNDS minlat minlon maxlat maxlon)|(OBJECT geojson)|(CIRCLE lat lon meters)|(TILE x y z)|(QUADKEY quadkey)|(HASH geohash)|(SECTOR lat lon meters bearing1 bearing2)", "Searches for objects that intersect an area"),
    ("TEST", "search", "(area) (INTERSECTS|WITHIN) (area)", "Performs a spatial test of two areas"),
    ("PING", "connection", "", "Ping the server"),
    ("ECHO", "connection", "message", "Returns message"),
    ("AUTH", "connection", "password", "Authenticate to the server"),
    ("OUTPUT", "connection", "[json|resp]", "Gets or sets the output format for the current connection"),
    ("TIMEOUT", "connection", "seconds COMMAND [arg ...]", "Runs a command with a timeout"),
    ("QUIT", "connection", "", "Close the connection"),
    ("SERVER", "server", "[EXT]", "Show server stats and details"),
    ("INFO", "server", "[section ...]", "Get information and statistics about the server"),
    ("HEALTHZ", "server", "", "Reports whether the server is ready to serve"),
    ("CONFIG GET", "server", "parameter", "Get the value of a configuration parameter"),
    ("CONFIG SET", "server", "parameter [value]", "Set a configuration parameter"),
    ("CONFIG REWRITE", "server", "", "Rewrite the configuration file with the in-memory configuration"),
    ("READONLY", "server", "yes|no", "Turns on or off readonly mode"),
    ("GC", "server", "", "Forces a garbage collection"),
    ("CLIENT", "server", "(LIST)|(KILL id|addr)|(GETNAME)|(SETNAME name)", "Manages client connections"),
    ("ROLE", "replication", "", "Returns the replication role of this server"),
    ("FOLLOW", "replication", "host port", "Follows a leader host (FOLLOW no one stops following)"),
    ("AOF", "replication", "pos", "Downloads the AOF starting from pos and keeps the connection alive"),
    ("AOFMD5", "replication", "pos size", "Performs a checksum on a portion of the aof"),
    ("AOFSHRINK", "replication", "", "Shrinks the aof in the background"),
    ("SETHOOK", "webhook", "name endpoint [META name value ...] [EX seconds] (NEARBY|WITHIN|INTERSECTS) key FENCE [DETECT what] [COMMANDS which] ...", "Creates a webhook which points to a geofenced search"),
    ("DELHOOK", "webhook", "name", "Removes a webhook"),
    ("PDELHOOK", "webhook", "pattern", "Removes all hooks matching a pattern"),
    ("HOOKS", "webhook", "pattern", "Finds all hooks matching a pattern"),
    ("SETCHAN", "pubsub", "name [META name value ...] [EX seconds] (NEARBY|WITHIN|INTERSECTS) key FENCE [DETECT what] [COMMANDS which] ...", "Creates a pubsub channel which points to a geofenced search"),
    ("DELCHAN", "pubsub", "name", "Removes a channel"),
    ("PDELCHAN", "pubsub", "pattern", "Removes all channels matching a pattern"),
    ("CHANS", "pubsub", "pattern", "Finds all channels matching a pattern"),
    ("SUBSCRIBE", "pubsub", "channel [channel ...]", "Subscribe to a geofence channel"),
    ("PSUBSCRIBE", "pubsub", "pattern [pattern ...]", "Subscribes the client to the given patterns"),
];

/// The text `help` prints for `topic` (`""`, a command or `@group`);
/// `color` adds the ANSI styling Tile38's cli uses on a terminal.
pub fn help(topic: &str, color: bool) -> String {
    let (bold, grey, yellow, reset) = if color {
        ("\x1b[1m", "\x1b[90m", "\x1b[33m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let entry = |(name, _, args, summary): &(&str, &str, &str, &str)| {
        format!(
            "  {bold}{name}{reset}{grey} {args}{reset}\n  {yellow}summary: {reset}{summary}\n\n"
        )
    };
    let topic = topic.trim();
    if topic.is_empty() {
        return format!(
            "tile38-cli {} (tile38-rs {})\n\
             Type:   \"help @<group>\" to get a list of commands in <group>\n        \
             \"help <command>\" for help on <command>\n        \
             \"help <tab>\" to get a list of possible help topics\n        \
             \"quit\" to exit\n",
            crate::opts::TILE38_VERSION,
            env!("CARGO_PKG_VERSION")
        );
    }
    let found: String = match topic.strip_prefix('@') {
        Some(group) => COMMANDS
            .iter()
            .filter(|c| c.1.eq_ignore_ascii_case(group))
            .map(entry)
            .collect(),
        None => COMMANDS
            .iter()
            .filter(|c| {
                c.0.eq_ignore_ascii_case(topic)
                    || c.0.split(' ').next() == Some(topic.to_ascii_uppercase().as_str())
            })
            .map(entry)
            .collect(),
    };
    if found.is_empty() {
        format!("No help for '{topic}'. Groups: {}\n", groups().join(", "))
    } else {
        found
    }
}

fn groups() -> Vec<String> {
    let mut g: Vec<String> = COMMANDS.iter().map(|c| format!("@{}", c.1)).collect();
    g.sort();
    g.dedup();
    g
}

/// Completions for the word being typed at the end of `line`: command names
/// for the first word, help topics after `help `. Returns the byte offset
/// where the completed word starts and the candidates.
pub fn complete(line: &str) -> (usize, Vec<String>) {
    let start = line.rfind(' ').map_or(0, |i| i + 1);
    let word = &line[start..];
    let head = line[..start].trim();
    let names = COMMANDS
        .iter()
        .map(|c| c.0.split(' ').next().unwrap_or(c.0).to_string());
    let mut out: Vec<String> = if head.is_empty() {
        names
            .filter(|n| {
                n.to_ascii_lowercase()
                    .starts_with(&word.to_ascii_lowercase())
            })
            .collect()
    } else if head.eq_ignore_ascii_case("help") {
        groups()
            .into_iter()
            .chain(names)
            .filter(|n| {
                n.to_ascii_lowercase()
                    .starts_with(&word.to_ascii_lowercase())
            })
            .collect()
    } else {
        Vec::new()
    };
    out.sort();
    out.dedup();
    (start, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_help_matches_tile38_styling() {
        let text = help("set", true);
        assert!(text.starts_with("  \x1b[1mSET\x1b[0m\x1b[90m key id [FIELD name value ...]"));
        assert!(text.ends_with("  \x1b[33msummary: \x1b[0mSets the value of an id\n\n"));
        assert!(help("CONFIG", false).contains("CONFIG REWRITE"));
        assert!(help("", false).contains("\"quit\" to exit"));
    }

    #[test]
    fn groups_and_unknown_topics() {
        let search = help("@search", false);
        for name in ["SCAN", "NEARBY", "WITHIN", "INTERSECTS"] {
            assert!(search.contains(&format!("  {name} ")), "{name}");
        }
        assert!(help("nosuch", false).contains("@keys"));
    }

    #[test]
    fn completion() {
        assert_eq!(complete("nea"), (0, vec!["NEARBY".to_string()]));
        let (at, c) = complete("help @se");
        assert_eq!(
            (at, c),
            (5, vec!["@search".to_string(), "@server".to_string()])
        );
        assert_eq!(complete("help ping").1, ["PING"]);
        assert!(complete("GET fleet tr").1.is_empty());
        assert_eq!(complete("conf").1, ["CONFIG"]);
    }
}
