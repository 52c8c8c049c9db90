//! `#[ntapi]`: the one place that names the NT calling conventions.
//!
//! C interface: `NTAPI` (`__stdcall`) and `FASTCALL` (`__fastcall`) of `ntdef.h`/`wdm.h`, the
//! conventions of every NT routine, `VideoPort*` export and miniport callback in `video.h`.
//!
//! Rust cannot take an ABI string from a macro or a `cfg`, so driver code writes the NT
//! conventions as two marker ABIs and puts `#[ntapi]` on the enclosing item (a function, an
//! `extern` block, a struct with callback fields, a type alias, an `impl`, an inline `mod`):
//!
//! | marker | `x86` (i686: Windows, and the 32-bit Linux host) | every other target (x86_64) |
//! |---|---|---|
//! | `extern "ntapi"` | `extern "stdcall"` (`NTAPI`) | `extern "ntapi"` |
//! | `extern "ntapi-fastcall"` | `extern "fastcall"` (`FASTCALL`) | `extern "ntapi"` |
//!
//! On x86_64 the Windows x64 convention is used on every host, not only on Windows (where it
//! is what `extern "system"` means): host-built code and code loaded from a PE image call each
//! other directly. On x86 the Linux host gets the Windows conventions too, so a 32-bit host run
//! exercises the same argument passing as the driver.
//!
//! The item is emitted twice, under `#[cfg(target_arch = "x86")]` and its negation, each with
//! the markers replaced. In the x86 copy every `#[link(...)]` that says `kind = "raw-dylib"`
//! also gets `import_name_type = "undecorated"`: x86 `ntoskrnl.exe` and `hal.dll` export
//! `KeBugCheckEx`, not the `_KeBugCheckEx@20` a stdcall symbol is decorated with (and the
//! attribute is an error on any other architecture). A marker left without `#[ntapi]` is a
//! compile error (`invalid ABI`), never a silent change of convention.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// See the crate documentation.
#[proc_macro_attribute]
pub fn ntapi(args: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(first) = args.into_iter().next() {
        return compile_error(first.span(), "#[ntapi] takes no arguments");
    }
    let mut out = TokenStream::new();
    out.extend(cfg_attr(true));
    out.extend(rewrite(item.clone(), Arch::X86));
    out.extend(cfg_attr(false));
    out.extend(rewrite(item, Arch::Other));
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Arch {
    X86,
    Other,
}

/// The ABI a marker stands for on `arch`, or `None` for any other ABI string.
fn abi_for(marker: &str, arch: Arch) -> Option<&'static str> {
    match (marker, arch) {
        ("\"ntapi\"", Arch::X86) => Some("stdcall"),
        ("\"ntapi-fastcall\"", Arch::X86) => Some("fastcall"),
        ("\"ntapi-cdecl\"", Arch::X86) => Some("C"),
        ("\"ntapi\"" | "\"ntapi-fastcall\"" | "\"ntapi-cdecl\"", Arch::Other) => Some("win64"),
        _ => None,
    }
}

fn rewrite(stream: TokenStream, arch: Arch) -> TokenStream {
    let mut out = Vec::<TokenTree>::new();
    let mut after_extern = false;
    let mut after_pound = false;
    for tt in stream {
        let next = match tt {
            TokenTree::Literal(lit) if after_extern => match abi_for(&lit.to_string(), arch) {
                Some(abi) => {
                    let mut new = Literal::string(abi);
                    new.set_span(lit.span());
                    TokenTree::Literal(new)
                }
                None => TokenTree::Literal(lit),
            },
            TokenTree::Group(g) => {
                let inner =
                    if after_pound && g.delimiter() == Delimiter::Bracket && arch == Arch::X86 {
                        undecorated_imports(g.stream())
                    } else {
                        rewrite(g.stream(), arch)
                    };
                let mut new = Group::new(g.delimiter(), inner);
                new.set_span(g.span());
                TokenTree::Group(new)
            }
            other => other,
        };
        after_extern = matches!(&next, TokenTree::Ident(i) if i.to_string() == "extern");
        after_pound = matches!(&next, TokenTree::Punct(p) if p.as_char() == '#');
        out.push(next);
    }
    out.into_iter().collect()
}

/// `link(name = ..., kind = "raw-dylib", ...)` gains `import_name_type = "undecorated"`;
/// any other attribute is returned unchanged.
fn undecorated_imports(attr: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = attr.clone().into_iter().collect();
    let [TokenTree::Ident(name), TokenTree::Group(args)] = tokens.as_slice() else {
        return attr;
    };
    let raw_dylib = args
        .stream()
        .into_iter()
        .any(|t| matches!(&t, TokenTree::Literal(l) if l.to_string() == "\"raw-dylib\""));
    if name.to_string() != "link" || !raw_dylib {
        return attr;
    }
    let mut inner: Vec<TokenTree> = args.stream().into_iter().collect();
    let span = args.span();
    inner.push(TokenTree::Punct(Punct::new(',', Spacing::Alone)));
    inner.push(TokenTree::Ident(Ident::new("import_name_type", span)));
    inner.push(TokenTree::Punct(Punct::new('=', Spacing::Alone)));
    inner.push(TokenTree::Literal(Literal::string("undecorated")));
    let mut group = Group::new(Delimiter::Parenthesis, inner.into_iter().collect());
    group.set_span(span);
    [TokenTree::Ident(name.clone()), TokenTree::Group(group)]
        .into_iter()
        .collect()
}

/// `#[cfg(target_arch = "x86")]`, or its negation.
fn cfg_attr(x86: bool) -> TokenStream {
    let span = Span::call_site();
    let pred: TokenStream = [
        TokenTree::Ident(Ident::new("target_arch", span)),
        TokenTree::Punct(Punct::new('=', Spacing::Alone)),
        TokenTree::Literal(Literal::string("x86")),
    ]
    .into_iter()
    .collect();
    let pred = if x86 {
        pred
    } else {
        [
            TokenTree::Ident(Ident::new("not", span)),
            TokenTree::Group(Group::new(Delimiter::Parenthesis, pred)),
        ]
        .into_iter()
        .collect()
    };
    let attr: TokenStream = [
        TokenTree::Ident(Ident::new("cfg", span)),
        TokenTree::Group(Group::new(Delimiter::Parenthesis, pred)),
    ]
    .into_iter()
    .collect();
    [
        TokenTree::Punct(Punct::new('#', Spacing::Alone)),
        TokenTree::Group(Group::new(Delimiter::Bracket, attr)),
    ]
    .into_iter()
    .collect()
}

fn compile_error(span: Span, msg: &str) -> TokenStream {
    let mut call: Vec<TokenTree> = vec![
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
    ];
    let mut arg = Group::new(
        Delimiter::Parenthesis,
        TokenTree::Literal(Literal::string(msg)).into(),
    );
    arg.set_span(span);
    call.push(TokenTree::Group(arg));
    call.push(TokenTree::Punct(Punct::new(';', Spacing::Alone)));
    call.into_iter().collect()
}
