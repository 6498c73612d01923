//! One page as printpdf operations: shapes first, then all text in one text object, in the order
//! it is read, so that `pdftotext` and screen readers get the statement top to bottom.

use printpdf::{
    Color, CurTransMat, Line, LinePoint, Op, PaintMode, PdfFontHandle, Point, Pt, Rect, Rgb,
    TextItem, TextMatrix, XObjectId, XObjectTransform,
};

use super::fonts::{Face, Faces};

pub type Rgb3 = [f32; 3];

fn color([r, g, b]: Rgb3) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}

/// Operations of one page, coordinates in points from the lower-left corner.
pub struct Canvas<'f> {
    faces: &'f Faces,
    shapes: Vec<Op>,
    text: Vec<Op>,
    /// The text state last set, so that runs in the same style do not repeat it.
    font: Option<(Face, f32)>,
    text_color: Option<Rgb3>,
    fill_color: Option<Rgb3>,
}

impl<'f> Canvas<'f> {
    pub fn new(faces: &'f Faces) -> Self {
        Self {
            faces,
            shapes: Vec::new(),
            text: Vec::new(),
            font: None,
            text_color: None,
            fill_color: None,
        }
    }

    /// Places one line of text with its baseline starting at (`x`, `y`).
    pub fn text(&mut self, face: Face, size: f32, rgb: Rgb3, x: f32, y: f32, line: &str) {
        if line.is_empty() {
            return;
        }
        if self.font != Some((face, size)) {
            self.text.push(Op::SetFont {
                font: PdfFontHandle::External(self.faces.get(face).font_id()),
                size: Pt(size),
            });
            self.font = Some((face, size));
        }
        if self.text_color != Some(rgb) {
            self.text.push(Op::SetFillColor { col: color(rgb) });
            self.text_color = Some(rgb);
        }
        self.text.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Pt(x), Pt(y)),
        });
        self.text.push(Op::ShowText {
            items: vec![TextItem::Text(line.to_string())],
        });
    }

    /// A line of text centred on `centre`.
    pub fn text_centred(
        &mut self,
        face: Face,
        size: f32,
        rgb: Rgb3,
        centre: f32,
        y: f32,
        line: &str,
    ) {
        let width = self.faces.get(face).width(line, size);
        self.text(face, size, rgb, centre - width / 2.0, y, line);
    }

    fn set_fill(&mut self, rgb: Rgb3) {
        if self.fill_color != Some(rgb) {
            self.shapes.push(Op::SetFillColor { col: color(rgb) });
            self.fill_color = Some(rgb);
        }
    }

    /// A rectangle's outline.
    pub fn stroke_rect(&mut self, rgb: Rgb3, thickness: f32, x: f32, y: f32, w: f32, h: f32) {
        self.shapes.push(Op::SetOutlineColor { col: color(rgb) });
        self.shapes
            .push(Op::SetOutlineThickness { pt: Pt(thickness) });
        self.shapes.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(y),
                width: Pt(w),
                height: Pt(h),
                mode: Some(PaintMode::Stroke),
                winding_order: None,
            },
        });
    }

    /// A horizontal rule from `x0` to `x1` at height `y`.
    pub fn rule(&mut self, rgb: Rgb3, thickness: f32, x0: f32, x1: f32, y: f32) {
        self.shapes.push(Op::SetOutlineColor { col: color(rgb) });
        self.shapes
            .push(Op::SetOutlineThickness { pt: Pt(thickness) });
        let point = |x: f32| LinePoint {
            p: Point { x: Pt(x), y: Pt(y) },
            bezier: false,
        };
        self.shapes.push(Op::DrawLine {
            line: Line {
                points: vec![point(x0), point(x1)],
                is_closed: false,
            },
        });
    }

    /// Draws an image XObject into the box with lower-left corner (`x`, `y`).
    pub fn image(&mut self, id: &XObjectId, x: f32, y: f32, width: f32, height: f32) {
        self.shapes.push(Op::SaveGraphicsState);
        self.shapes.push(Op::SetTransformationMatrix {
            matrix: CurTransMat::Raw([width, 0.0, 0.0, height, x, y]),
        });
        self.shapes.push(Op::UseXobject {
            id: id.clone(),
            transform: XObjectTransform {
                no_auto_scale: true,
                ..Default::default()
            },
        });
        self.shapes.push(Op::RestoreGraphicsState);
    }

    /// Draws a QR symbol (`width` × `width` modules, row-major, `true` dark) with its top-left
    /// corner at (`x`, `top`). Dark modules are merged into rectangles, first along each row and
    /// then down the rows where the same run repeats: a version 10 symbol takes a few hundred
    /// rectangles instead of 1,500 squares.
    pub fn qr(&mut self, rgb: Rgb3, modules: &[bool], width: usize, x: f32, top: f32, module: f32) {
        self.set_fill(rgb);
        // Open runs: (first column, length) → (first row, rows so far).
        let mut open: Vec<(usize, usize, usize, usize)> = Vec::new();
        let flush = |canvas: &mut Self, (col, len, row, rows): (usize, usize, usize, usize)| {
            canvas.shapes.push(Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(x + col as f32 * module),
                    y: Pt(top - (row + rows) as f32 * module),
                    width: Pt(len as f32 * module),
                    height: Pt(rows as f32 * module),
                    mode: Some(PaintMode::Fill),
                    winding_order: None,
                },
            });
        };
        for row in 0..width {
            let cells = &modules[row * width..(row + 1) * width];
            let mut runs = Vec::new();
            let mut col = 0;
            while col < width {
                if cells[col] {
                    let start = col;
                    while col < width && cells[col] {
                        col += 1;
                    }
                    runs.push((start, col - start));
                } else {
                    col += 1;
                }
            }
            let mut still_open = Vec::with_capacity(open.len());
            for run in open.drain(..) {
                if let Some(at) = runs.iter().position(|r| (r.0, r.1) == (run.0, run.1)) {
                    runs.swap_remove(at);
                    still_open.push((run.0, run.1, run.2, run.3 + 1));
                } else {
                    flush(self, run);
                }
            }
            still_open.extend(runs.into_iter().map(|(c, l)| (c, l, row, 1)));
            open = still_open;
        }
        for run in open {
            flush(self, run);
        }
    }

    /// The page's operations: shapes, then the text object.
    pub fn finish(self) -> Vec<Op> {
        let mut ops = self.shapes;
        if !self.text.is_empty() {
            ops.push(Op::StartTextSection);
            ops.extend(self.text);
            ops.push(Op::EndTextSection);
        }
        ops
    }
}
