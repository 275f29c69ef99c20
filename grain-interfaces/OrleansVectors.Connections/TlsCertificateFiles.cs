using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace OrleansVectors.Connections;

/// <summary>
/// Mutual TLS between silos and clients from PEM files, as Kubernetes mounts a TLS secret (tls.crt, tls.key, ca.crt):
/// this side's certificate and key, and the CA that every peer's certificate must chain to. Peers are told apart by
/// their CA, not by host name (silos come and go under new pod addresses), so the CA must be private to the cluster.
/// </summary>
public sealed class TlsCertificateFiles : IValidatableObject
{
    /// <summary>Whether TLS is on (configuration: Silo:Tls:Enabled; the tool: --tls-cert …).</summary>
    public bool Enabled { get; set; }

    /// <summary>This side's certificate, PEM (tls.crt).</summary>
    public string CertificateFile { get; set; } = "";

    /// <summary>Its private key, PEM (tls.key).</summary>
    public string KeyFile { get; set; } = "";

    /// <summary>The certificate authority that signs the cluster's and its clients' certificates, PEM (ca.crt).</summary>
    public string CaFile { get; set; } = "";

    /// <summary>With <see cref="Enabled"/>: each of the three files named, and there.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }

        foreach (var (name, path) in new[] { (nameof(CertificateFile), CertificateFile), (nameof(KeyFile), KeyFile), (nameof(CaFile), CaFile) })
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                yield return new ValidationResult("must name a PEM file when Tls:Enabled is true", [$"Tls:{name}"]);
            }
            else if (!File.Exists(path))
            {
                yield return new ValidationResult($"must name a PEM file; there is no file at '{path}'", [$"Tls:{name}"]);
            }
        }
    }

    /// <summary>Loads the files and sets <paramref name="options"/>: this certificate, a peer certificate required, and the peer checked against the CA.</summary>
    public X509Certificate2 Configure(TlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var certificate = LoadCertificate();
        var authority = LoadAuthority();
        options.LocalCertificate = certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (peer, _, _) => ChainsTo(peer, authority);
        return certificate;
    }

    /// <summary>Whether <paramref name="peer"/> chains to <paramref name="authority"/> (and only to it).</summary>
    public static bool ChainsTo(X509Certificate2 peer, X509Certificate2 authority)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(authority);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }

    private X509Certificate2 LoadCertificate()
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(CertificateFile, KeyFile);

            // SslStream on Linux wants a key it can export to OpenSSL: go through PKCS#12 once
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException)
        {
            throw new InvalidOperationException($"TLS certificate '{CertificateFile}' with key '{KeyFile}' could not be loaded: {e.Message}", e);
        }
    }

    private X509Certificate2 LoadAuthority()
    {
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(CaFile);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException)
        {
            throw new InvalidOperationException($"TLS CA certificate '{CaFile}' could not be loaded: {e.Message}", e);
        }
    }
}
