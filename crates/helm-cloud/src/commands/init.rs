//! `helm-cloud init`

use crate::context::Ctx;
use crate::error::CliResult;
use helm_core::clock;
use serde_json::json;

pub fn run(ctx: &Ctx) -> CliResult {
    let files = helm_core::init::init(&ctx.paths, &clock::rfc3339(ctx.clock.now()))?;
    let json = json!({
        "root": ctx.paths.root,
        "files": files.iter().map(|f| json!({"path": ctx.show_path(&f.path), "written": f.written})).collect::<Vec<_>>(),
    });
    ctx.out.result(&json, || {
        let mut s = String::new();
        for f in &files {
            let what = if f.written { "wrote  " } else { "kept   " };
            s.push_str(&format!("{what}{}\n", ctx.show_path(&f.path)));
        }
        let written = files.iter().filter(|f| f.written).count();
        if written == 0 {
            s.push_str("\nNothing to do: every file already exists (init never overwrites).\n");
        }
        s.push_str(
            "\nNext:\n  1. copy .fractary/shared/aws-credentials.example.json to aws-credentials.json and set your account, region and profiles\n  2. helm-cloud config validate --aws\n  3. helm-cloud registry add --file deployment.json   (faber-cloud does this on deploy)\n",
        );
        s
    });
    Ok(0)
}
