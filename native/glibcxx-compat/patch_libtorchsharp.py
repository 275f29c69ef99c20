#!/usr/bin/env python3
"""Makes TorchSharp's libLibTorchSharp.so load on Debian 12 (libstdc++ without GLIBCXX_3.4.32).

Usage: patch_libtorchsharp.py OUTPUT_DIR

Does nothing when the system libstdc++ has GLIBCXX_3.4.32, when OUTPUT_DIR has no libLibTorchSharp.so, or
when that file was already patched. Otherwise, in OUTPUT_DIR:
  1. builds libovf_glibcxx_compat.so, which defines the one missing function, std::ios_base_library_init;
  2. with patchelf, clears that symbol's version and adds the compat library as NEEDED (found through the
     library's own $ORIGIN runpath);
  3. marks the GLIBCXX_3.4.32 version requirement weak (VER_FLG_WEAK) in .gnu.version_r, so the loader
     accepts a libstdc++ without it.
Needs g++ and patchelf (native/install-deps.sh installs both). Only the copy in OUTPUT_DIR changes.
"""
import os
import shutil
import struct
import subprocess
import sys

SYMBOL = "_ZSt21ios_base_library_initv"
VERSION = b"GLIBCXX_3.4.32"
COMPAT = "libovf_glibcxx_compat.so"
VER_FLG_WEAK = 0x2
SHT_GNU_VERNEED = 0x6FFFFFFE


def system_has_version():
    for path in ("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6"):
        if os.path.exists(path):
            with open(path, "rb") as f:
                return VERSION + b"\0" in f.read()
    return False


def verneed_entries(data):
    """Yields (flags_offset, flags, name) for every Vernaux entry of an ELF64 little-endian file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    for _, sh_type, _, _, offset, _, link, info, _, _ in sections:
        if sh_type != SHT_GNU_VERNEED:
            continue
        strtab = sections[link][4]
        entry = offset
        for _ in range(info):
            _, count, _, aux, next_entry = struct.unpack_from("<HHIII", data, entry)
            at = entry + aux
            for _ in range(count):
                _, flags, _, name, next_aux = struct.unpack_from("<IHHII", data, at)
                end = data.index(b"\0", strtab + name)
                yield at + 4, flags, bytes(data[strtab + name:end])
                at += next_aux
            entry += next_entry


def main():
    out = sys.argv[1]
    target = os.path.join(out, "libLibTorchSharp.so")
    if system_has_version() or not os.path.exists(target):
        return 0
    with open(target, "rb") as f:
        data = bytearray(f.read())
    needs = [(at, flags) for at, flags, name in verneed_entries(data) if name == VERSION]
    if not needs or all(flags & VER_FLG_WEAK for _, flags in needs):
        return 0  # nothing to do, or patched already

    for tool in ("g++", "patchelf"):
        if shutil.which(tool) is None:
            sys.exit(f"patch_libtorchsharp: {tool} is missing; run native/install-deps.sh")
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run(["g++", "-O2", "-shared", "-fPIC", "-o", os.path.join(out, COMPAT),
                    os.path.join(here, "glibcxx_compat.cpp")], check=True)

    patched = target + ".patching"
    shutil.copyfile(target, patched)
    subprocess.run(["patchelf", "--clear-symbol-version", SYMBOL, "--add-needed", COMPAT, patched], check=True)
    with open(patched, "rb") as f:
        data = bytearray(f.read())
    for at, flags, name in list(verneed_entries(data)):
        if name == VERSION:
            struct.pack_into("<H", data, at, flags | VER_FLG_WEAK)
    with open(patched, "wb") as f:
        f.write(data)
    os.chmod(patched, 0o755)
    os.replace(patched, target)
    print(f"patch_libtorchsharp: {target} patched for a libstdc++ without GLIBCXX_3.4.32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
