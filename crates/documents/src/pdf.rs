//! PDF rendering with typst: owns the typst `World`, the embedded templates and the shared page
//! style of official forms.
//!
//! A render sees only virtual files at fixed paths, so the global `FileId` interner (capped at
//! 65,535 ids) never grows per request:
//! - the template itself (`/<template>.typ`, embedded with `include_str!` from `templates/`),
//! - `/official.typ`, the shared style (A4, GB/T 9704 margins, 仿宋-like body, 黑体-like titles),
//! - `/data.json`, the document's data, which the template reads with `json("/data.json")`,
//! - `/sig0.png` … `/sig15.png`, the PNG images of one render (handwritten signatures), passed with
//!   [`Renderer::render_pdf_with_images`]; slot `n` is the `n`-th image, unused slots are missing.
//!
//! Data never becomes markup: the template shows JSON strings as text values, so `#`, `*`, `$` or
//! `[` in a company name are printed, not evaluated. Fonts chosen at start-up are passed through
//! `sys.inputs` (`body-fonts`, `title-fonts`), never spliced into source text.
//!
//! `World::today` returns nothing: a template that needs a date gets it from its data, which keeps
//! output deterministic (the PDF's creation date is the document's own date). After each render
//! the memo cache is evicted down to recent entries so a long-running server does not grow.

use std::path::PathBuf;
use std::sync::Arc;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Array, Bytes, Datetime, Dict, Duration, Smart, Value};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

use crate::{DocumentError, Fonts};

/// Memo-cache entries unused for this many renders are dropped (typst's own watcher uses 10).
const EVICT_MAX_AGE: usize = 10;

const STYLE_PATH: &str = "/official.typ";
const STYLE_SOURCE: &str = include_str!("../templates/official.typ");
const DATA_PATH: &str = "/data.json";

/// How many images one render can use (`/sig0.png` … `/sig15.png`).
pub(crate) const IMAGE_SLOTS: usize = 16;
/// How many PDF documents one render can embed (`/doc0.pdf` …); the paths are interned once.
pub const DOCUMENT_SLOTS: usize = 512;

const IMAGE_PATHS: [&str; IMAGE_SLOTS] = [
    "/sig0.png",
    "/sig1.png",
    "/sig2.png",
    "/sig3.png",
    "/sig4.png",
    "/sig5.png",
    "/sig6.png",
    "/sig7.png",
    "/sig8.png",
    "/sig9.png",
    "/sig10.png",
    "/sig11.png",
    "/sig12.png",
    "/sig13.png",
    "/sig14.png",
    "/sig15.png",
];

/// The virtual path of image slot `slot` (see [`Renderer::render_pdf_with_images`]).
pub(crate) fn image_path(slot: usize) -> Option<&'static str> {
    IMAGE_PATHS.get(slot).copied()
}

/// Body text: 仿宋 is the GB/T 9704 face for official documents; Noto Serif CJK (宋体-like) is the
/// fallback every Debian machine can install.
const BODY_FONT_PREFERENCE: &[&str] = &[
    "FangSong_GB2312",
    "FangSong",
    "FandolFang R",
    "STFangsong",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "SimSun",
    "FandolSong",
];

/// Titles and labels: 黑体-like faces with a bold weight where possible.
const TITLE_FONT_PREFERENCE: &[&str] =
    &["Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "FandolHei", "WenQuanYi Micro Hei", "Droid Sans Fallback"];

/// The documents this crate can render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Template {
    /// 产品质量改进建议书 (Annex 2 of the spot-check notices).
    ImprovementLetter,
    /// 产品质量监督抽查通知书, shown to the enterprise before sampling.
    SpotCheckNotice,
    /// 产品质量监督抽查/复查抽样单.
    SamplingRecord,
    /// 产品质量监督抽查样品付费单.
    SamplePaymentForm,
    /// 产品质量监督抽查样品封存和处置告知单.
    BackupSealingNotice,
    /// 产品质量监督抽查拒检认定表.
    RefusalDetermination,
    /// 产品质量监督抽查样品问题报送单.
    ProblemReport,
    /// 产品质量监督抽查工作质量及工作纪律反馈单.
    ConductFeedbackForm,
    /// 检验报告.
    TestReport,
    /// 盲样标签.
    SampleLabel,
    /// 检验结果告知书.
    ResultNotice,
    /// 产品质量监督抽查结果公告.
    Announcement,
    /// 质量分析报告 (with charts).
    QualityAnalysis,
    /// 合订本: cover and table of contents, then the stored PDFs page by page.
    BoundVolume,
    /// 责令停止生产销售通知书 / 责令整改通知书 (post-processing).
    CaseOrder,
}

impl Template {
    /// Every template, for start-up checks.
    pub const ALL: [Template; 15] = [
        Template::ImprovementLetter,
        Template::SpotCheckNotice,
        Template::SamplingRecord,
        Template::SamplePaymentForm,
        Template::BackupSealingNotice,
        Template::RefusalDetermination,
        Template::ProblemReport,
        Template::ConductFeedbackForm,
        Template::TestReport,
        Template::SampleLabel,
        Template::ResultNotice,
        Template::Announcement,
        Template::QualityAnalysis,
        Template::BoundVolume,
        Template::CaseOrder,
    ];

    /// The document's Chinese name, used in errors and logs.
    pub fn name(self) -> &'static str {
        match self {
            Template::ImprovementLetter => "产品质量改进建议书",
            Template::SpotCheckNotice => "产品质量监督抽查通知书",
            Template::SamplingRecord => "产品质量监督抽查/复查抽样单",
            Template::SamplePaymentForm => "产品质量监督抽查样品付费单",
            Template::BackupSealingNotice => "产品质量监督抽查样品封存和处置告知单",
            Template::RefusalDetermination => "产品质量监督抽查拒检认定表",
            Template::ProblemReport => "产品质量监督抽查样品问题报送单",
            Template::ConductFeedbackForm => "产品质量监督抽查工作质量及工作纪律反馈单",
            Template::TestReport => "检验报告",
            Template::SampleLabel => "盲样标签",
            Template::ResultNotice => "产品质量监督抽查检验结果告知书",
            Template::Announcement => "产品质量监督抽查结果公告",
            Template::QualityAnalysis => "质量分析报告",
            Template::BoundVolume => "合订本",
            Template::CaseOrder => "责令停止生产销售/责令整改通知书",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Template::ImprovementLetter => "/improvement_letter.typ",
            Template::SpotCheckNotice => "/spot_check_notice.typ",
            Template::SamplingRecord => "/sampling_record.typ",
            Template::SamplePaymentForm => "/sample_payment_form.typ",
            Template::BackupSealingNotice => "/backup_sealing_notice.typ",
            Template::RefusalDetermination => "/refusal_determination.typ",
            Template::ProblemReport => "/problem_report.typ",
            Template::ConductFeedbackForm => "/conduct_feedback_form.typ",
            Template::TestReport => "/test_report.typ",
            Template::SampleLabel => "/sample_label.typ",
            Template::ResultNotice => "/result_notice.typ",
            Template::Announcement => "/announcement.typ",
            Template::QualityAnalysis => "/quality_analysis.typ",
            Template::BoundVolume => "/bound_volume.typ",
            Template::CaseOrder => "/case_order.typ",
        }
    }

    fn source_text(self) -> &'static str {
        match self {
            Template::ImprovementLetter => include_str!("../templates/improvement_letter.typ"),
            Template::SpotCheckNotice => include_str!("../templates/spot_check_notice.typ"),
            Template::SamplingRecord => include_str!("../templates/sampling_record.typ"),
            Template::SamplePaymentForm => include_str!("../templates/sample_payment_form.typ"),
            Template::BackupSealingNotice => include_str!("../templates/backup_sealing_notice.typ"),
            Template::RefusalDetermination => include_str!("../templates/refusal_determination.typ"),
            Template::ProblemReport => include_str!("../templates/problem_report.typ"),
            Template::ConductFeedbackForm => include_str!("../templates/conduct_feedback_form.typ"),
            Template::TestReport => include_str!("../templates/test_report.typ"),
            Template::SampleLabel => include_str!("../templates/sample_label.typ"),
            Template::ResultNotice => include_str!("../templates/result_notice.typ"),
            Template::Announcement => include_str!("../templates/announcement.typ"),
            Template::QualityAnalysis => include_str!("../templates/quality_analysis.typ"),
            Template::BoundVolume => include_str!("../templates/bound_volume.typ"),
            Template::CaseOrder => include_str!("../templates/case_order.typ"),
        }
    }
}

/// Renders templates to PDF. Cheap to clone and share between threads (one `Arc`). Rendering is
/// synchronous and CPU-bound: call it from `spawn_blocking` or a worker pool.
#[derive(Clone)]
pub struct Renderer {
    inner: Arc<Inner>,
}

struct Inner {
    library: LazyHash<Library>,
    fonts: Fonts,
    data_id: FileId,
    image_ids: Vec<FileId>,
    /// `/doc0.pdf` … : the embedded PDF documents of one render (see [`Renderer::render_pdf_with_documents`]).
    document_ids: Vec<FileId>,
    style: Source,
    templates: Vec<(Template, Source)>,
}

impl Renderer {
    /// Finds fonts (see [`Fonts::load`]) and prepares the templates.
    ///
    /// # Errors
    /// [`DocumentError::NoChineseFont`] when no Chinese font is installed.
    pub fn load(extra_font_dirs: &[PathBuf]) -> Result<Renderer, DocumentError> {
        Renderer::new(Fonts::load(extra_font_dirs)?)
    }

    /// Prepares the templates with these fonts. The body and title font lists are the preferred
    /// families present in `fonts`, falling back to the first family that covers Chinese.
    ///
    /// # Errors
    /// Only if a built-in virtual path were invalid (a bug caught by every test).
    pub fn new(fonts: Fonts) -> Result<Renderer, DocumentError> {
        let body_fonts = available_families(&fonts, BODY_FONT_PREFERENCE);
        let title_fonts = available_families(&fonts, TITLE_FONT_PREFERENCE);
        tracing::info!(?body_fonts, ?title_fonts, "PDF fonts chosen");

        let inputs: Dict = [
            ("body-fonts".into(), font_list_value(&body_fonts)),
            ("title-fonts".into(), font_list_value(&title_fonts)),
        ]
        .into_iter()
        .collect();
        let library = Library::builder().with_inputs(inputs).build();

        let templates = Template::ALL
            .iter()
            .map(|&template| {
                let id = virtual_file_id(template.path())?;
                Ok((template, Source::new(id, template.source_text().to_owned())))
            })
            .collect::<Result<_, DocumentError>>()?;

        Ok(Renderer {
            inner: Arc::new(Inner {
                library: LazyHash::new(library),
                fonts,
                data_id: virtual_file_id(DATA_PATH)?,
                image_ids: IMAGE_PATHS.iter().map(|path| virtual_file_id(path)).collect::<Result<_, _>>()?,
                document_ids: (0..DOCUMENT_SLOTS)
                    .map(|n| virtual_file_id(&format!("/doc{n}.pdf")))
                    .collect::<Result<_, _>>()?,
                style: Source::new(virtual_file_id(STYLE_PATH)?, STYLE_SOURCE.to_owned()),
                templates,
            }),
        })
    }

    /// The fonts this renderer uses.
    pub fn fonts(&self) -> &Fonts {
        &self.inner.fonts
    }

    /// Renders `template` with `data` (read by the template as `/data.json`) to PDF bytes.
    ///
    /// # Errors
    /// [`DocumentError::Template`] when typst cannot lay the document out (e.g. a field the
    /// template needs is missing from `data`), [`DocumentError::Pdf`] when the PDF cannot be
    /// written.
    pub fn render_pdf(&self, template: Template, data: &serde_json::Value) -> Result<Vec<u8>, DocumentError> {
        self.render_pdf_with_images(template, data, &[])
    }

    /// Renders `template` with `data` and images: `images[n]` is the file `/sig{n}.png` (PNG
    /// bytes), which the template shows with `image("/sig0.png")`. At most 16 images.
    ///
    /// # Errors
    /// As [`Renderer::render_pdf`]; [`DocumentError::Template`] also when there are more than 16
    /// images or an image the template shows cannot be decoded.
    #[tracing::instrument(skip_all, fields(template = template.name(), images = images.len()))]
    pub fn render_pdf_with_images(
        &self,
        template: Template,
        data: &serde_json::Value,
        images: &[&[u8]],
    ) -> Result<Vec<u8>, DocumentError> {
        self.render(template, data, images, Vec::new())
    }

    /// Renders `template` with `data` and PDF documents: `documents[n]` is the file `/doc{n}.pdf`,
    /// which the template shows page by page with `image("/doc0.pdf", page: 1)`. At most
    /// [`DOCUMENT_SLOTS`] documents.
    ///
    /// # Errors
    /// As [`Renderer::render_pdf`]; [`DocumentError::Template`] also when there are too many
    /// documents or one cannot be read as PDF.
    pub fn render_pdf_with_documents(
        &self,
        template: Template,
        data: &serde_json::Value,
        documents: Vec<Vec<u8>>,
    ) -> Result<Vec<u8>, DocumentError> {
        if documents.len() > DOCUMENT_SLOTS {
            return Err(DocumentError::Template {
                template: template.name(),
                message: format!("文件过多：{} 份，最多 {DOCUMENT_SLOTS} 份", documents.len()),
            });
        }
        self.render(template, data, &[], documents.into_iter().map(Bytes::new).collect())
    }

    fn render(
        &self,
        template: Template,
        data: &serde_json::Value,
        images: &[&[u8]],
        documents: Vec<Bytes>,
    ) -> Result<Vec<u8>, DocumentError> {
        if images.len() > IMAGE_SLOTS {
            return Err(DocumentError::Template {
                template: template.name(),
                message: format!("图片过多：{} 张，最多 {IMAGE_SLOTS} 张", images.len()),
            });
        }
        let started = std::time::Instant::now();
        let main = self
            .inner
            .templates
            .iter()
            .find(|(known, _)| *known == template)
            .map(|(_, source)| source.clone())
            .ok_or_else(|| DocumentError::Template {
                template: template.name(), message: "模板未注册".to_owned()
            })?;
        let world = RenderWorld {
            inner: &self.inner,
            main,
            data: Bytes::new(serde_json::to_vec(data)?),
            images: images.iter().map(|image| Bytes::new(image.to_vec())).collect(),
            documents,
        };

        let compiled = typst::compile::<PagedDocument>(&world);
        for warning in &compiled.warnings {
            tracing::warn!(warning = %describe(&world, std::slice::from_ref(warning)), "typst warning");
        }
        let result = compiled
            .output
            .map_err(|errors| DocumentError::Template { template: template.name(), message: describe(&world, &errors) })
            .and_then(|document| {
                let options = typst_pdf::PdfOptions {
                    creator: Smart::Custom(Some("Choucha".to_owned())),
                    ..typst_pdf::PdfOptions::default()
                };
                typst_pdf::pdf(&document, &options).map_err(|errors| DocumentError::Pdf {
                    template: template.name(),
                    message: describe(&world, &errors),
                })
            });
        typst::comemo::evict(EVICT_MAX_AGE);

        tracing::debug!(elapsed_ms = started.elapsed().as_millis(), ok = result.is_ok(), "rendered");
        result
    }
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").field("fonts", &self.inner.fonts).finish()
    }
}

/// The world of one render: the shared library and fonts plus this request's template and data.
struct RenderWorld<'a> {
    inner: &'a Inner,
    main: Source,
    data: Bytes,
    images: Vec<Bytes>,
    documents: Vec<Bytes>,
}

impl World for RenderWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.inner.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        self.inner.fonts.book()
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else if id == self.inner.style.id() {
            Ok(self.inner.style.clone())
        } else if id == self.inner.data_id {
            Err(FileError::NotSource)
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.inner.data_id {
            return Ok(self.data.clone());
        }
        if let Some(slot) = self.inner.image_ids.iter().position(|known| *known == id) {
            return self.images.get(slot).cloned().ok_or_else(|| not_found(id));
        }
        if let Some(slot) = self.inner.document_ids.iter().position(|known| *known == id) {
            return self.documents.get(slot).cloned().ok_or_else(|| not_found(id));
        }
        self.source(id).map(Bytes::from_string)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.inner.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(PathBuf::from(id.vpath().get_with_slash()))
}

/// The id of a fixed virtual path; the same path always yields the same interned id.
fn virtual_file_id(path: &str) -> Result<FileId, DocumentError> {
    let vpath = VirtualPath::new(path).map_err(|err| DocumentError::Template {
        template: "（内部）",
        message: format!("虚拟路径 {path} 无效：{err}"),
    })?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

fn available_families(fonts: &Fonts, preference: &[&str]) -> Vec<String> {
    let mut families: Vec<String> =
        preference.iter().filter(|family| fonts.has_family(family)).map(|family| (*family).to_owned()).collect();
    if families.is_empty()
        && let Some(family) = fonts.chinese_family()
    {
        families.push(family.to_owned());
    }
    families
}

fn font_list_value(families: &[String]) -> Value {
    Value::Array(families.iter().map(|family| Value::Str(family.as_str().into())).collect::<Array>())
}

/// Typst diagnostics as text: message, template line and hints, one diagnostic per line.
fn describe(world: &RenderWorld<'_>, diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|diagnostic| {
            let mut text = diagnostic.message.to_string();
            if let Some(id) = diagnostic.span.id()
                && let Some(range) = world.range(diagnostic.span)
            {
                let path = id.vpath().get_with_slash().to_owned();
                let line = world
                    .source(id)
                    .ok()
                    .and_then(|source| source.lines().byte_to_line(range.start))
                    .map_or_else(String::new, |line| format!(":{}", line + 1));
                text = format!("{path}{line}: {text}");
            }
            for hint in &diagnostic.hints {
                text.push_str("（提示：");
                text.push_str(&hint.v);
                text.push('）');
            }
            text
        })
        .collect::<Vec<_>>()
        .join("\n")
}
