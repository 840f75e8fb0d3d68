// MSBuild task (RoslynCodeTaskFactory) that lets TorchSharp's native library load on Debian 12.
//
// libLibTorchSharp.so (TorchSharp 0.107.0) declares a need for GLIBCXX_3.4.32, but Debian 12's libstdc++
// stops at 3.4.30. The only symbol behind that version, _ZSt21ios_base_library_initv, is referenced and
// never called, so marking the version requirement weak (VER_FLG_WEAK) turns the load failure into a
// loader warning. The task edits the copy in the build output, never the NuGet cache, is idempotent,
// does nothing where the system libstdc++ already provides the version, and fails loudly when the
// requirement it expects is not in the file (a new TorchSharp release: re-check the fix).
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenGlibcxxRequirement : Task
{
    const uint GlibcxxHash = 0x0297f842; // ELF hash of "GLIBCXX_3.4.32"
    const string VersionName = "GLIBCXX_3.4.32";
    const ushort VerFlagWeak = 2;
    const uint ShtGnuVerneed = 0x6ffffffe;

    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        if (SystemLibstdcxxHasVersion())
        {
            Log.LogMessage(MessageImportance.Low, "System libstdc++ provides {0}; TorchSharp needs no patch.", VersionName);
            return true;
        }
        foreach (var item in Libraries)
        {
            string path = item.ItemSpec;
            try
            {
                string result = Patch(path);
                Log.LogMessage(MessageImportance.Normal, "{0}: {1}", path, result);
            }
            catch (Exception e)
            {
                Log.LogError("Cannot mark {0} weak in {1}: {2}", VersionName, path, e.Message);
                return false;
            }
        }
        return !Log.HasLoggedErrors;
    }

    static bool SystemLibstdcxxHasVersion()
    {
        foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu" })
        {
            string lib = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(lib))
                return Encoding.ASCII.GetString(File.ReadAllBytes(lib)).Contains(VersionName + "\0");
        }
        return false;
    }

    static string Patch(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 0x2C);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            long need = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    if (BitConverter.ToUInt32(elf, (int)aux) == GlibcxxHash &&
                        ReadString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8)) == VersionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlagWeak) != 0) return "already weak";
                        BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, (int)aux + 4);
                        string temp = path + ".patching";
                        File.WriteAllBytes(temp, elf);
                        File.Replace(temp, path, null);
                        return "marked " + VersionName + " weak";
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }
        throw new InvalidDataException("no " + VersionName + " version requirement found; this TorchSharp release may not need the fix, or needs a new one");
    }

    static string ReadString(byte[] elf, long at)
    {
        int end = (int)at;
        while (elf[end] != 0) end++;
        return Encoding.ASCII.GetString(elf, (int)at, end - (int)at);
    }
}
