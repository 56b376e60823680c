//! Positions and axis-aligned rectangles in GeoJSON axis order
//! (`x` = longitude, `y` = latitude).

/// A 2-D position: `x` is the longitude, `y` the latitude.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

impl Position {
    pub const fn new(x: f64, y: f64) -> Self {
        Position { x, y }
    }
}

/// A rectangle. `min`/`max` are kept as given: `SET … BOUNDS 34 -112 33 -115`
/// stores an "inverted" rectangle and Tile38 prints it back unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rect {
    pub min: Position,
    pub max: Position,
}

impl Rect {
    pub const fn new(min: Position, max: Position) -> Self {
        Rect { min, max }
    }

    /// The degenerate rectangle of one position.
    pub const fn point(p: Position) -> Self {
        Rect { min: p, max: p }
    }

    /// Whether some side is NaN.
    pub fn has_nan(&self) -> bool {
        [self.min.x, self.min.y, self.max.x, self.max.y]
            .iter()
            .any(|v| v.is_nan())
    }

    /// Smallest rectangle holding both (NaN coordinates are ignored by
    /// `f64::min`/`max`, as they are by Tile38's R-tree).
    pub fn union(&self, other: &Rect) -> Rect {
        Rect {
            min: Position::new(self.min.x.min(other.min.x), self.min.y.min(other.min.y)),
            max: Position::new(self.max.x.max(other.max.x), self.max.y.max(other.max.y)),
        }
    }

    /// Grows the rectangle to include `p`.
    pub fn extend(&mut self, p: Position) {
        // Go's comparisons: a NaN position is passed over, and a NaN side
        // (from the first position) stays NaN.
        if p.x < self.min.x {
            self.min.x = p.x;
        }
        if p.y < self.min.y {
            self.min.y = p.y;
        }
        if p.x > self.max.x {
            self.max.x = p.x;
        }
        if p.y > self.max.y {
            self.max.y = p.y;
        }
    }

    /// The centre, as `GET … POINT` reports it for non-point objects.
    pub fn center(&self) -> Position {
        Position::new(
            (self.min.x + self.max.x) / 2.0,
            (self.min.y + self.max.y) / 2.0,
        )
    }
}
