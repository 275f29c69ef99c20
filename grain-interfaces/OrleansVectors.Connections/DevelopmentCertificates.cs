using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansVectors.Connections;

/// <summary>
/// A private certificate authority and certificates it signed, written as PEM files, for local clusters, tests and
/// benchmarks with TLS on. Production clusters take theirs from a secret (cert-manager or the like).
/// </summary>
public static class DevelopmentCertificates
{
    /// <summary>Creates a self-signed CA valid for <paramref name="days"/> days.</summary>
    public static X509Certificate2 CreateAuthority(string name, int days = 30)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(days));
    }

    /// <summary>Issues a certificate for <paramref name="name"/> (server and client authentication, loopback) signed by <paramref name="authority"/>.</summary>
    public static X509Certificate2 Issue(X509Certificate2 authority, ECDsa key, string name)
    {
        ArgumentNullException.ThrowIfNull(authority);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        return request.Create(authority, authority.NotBefore, authority.NotAfter.AddDays(-1), RandomNumberGenerator.GetBytes(8));
    }

    /// <summary>
    /// Writes <paramref name="name"/>.crt and <paramref name="name"/>.key (PEM) into <paramref name="folder"/>, signed by
    /// <paramref name="authority"/>, and (once) the authority as ca.crt; returns the TLS settings that use them.
    /// </summary>
    public static TlsCertificateFiles Write(string folder, string name, X509Certificate2 authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Issue(authority, key, name);
        var files = new TlsCertificateFiles
        {
            Enabled = true,
            CertificateFile = Path.Combine(folder, $"{name}.crt"),
            KeyFile = Path.Combine(folder, $"{name}.key"),
            CaFile = Path.Combine(folder, "ca.crt"),
        };
        File.WriteAllText(files.CertificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(files.KeyFile, key.ExportPkcs8PrivateKeyPem());
        if (!File.Exists(files.CaFile))
        {
            File.WriteAllText(files.CaFile, authority.ExportCertificatePem());
        }

        return files;
    }

    /// <summary>The command-line arguments that give a silo these TLS settings.</summary>
    public static IReadOnlyList<string> SiloArguments(TlsCertificateFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return ["--Silo:Tls:Enabled", "true", "--Silo:Tls:CertificateFile", files.CertificateFile, "--Silo:Tls:KeyFile", files.KeyFile, "--Silo:Tls:CaFile", files.CaFile];
    }
}
