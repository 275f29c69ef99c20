namespace OrleansVectors.Cli;

/// <summary>
/// A setting the parser could not check, found wrong before any connection: an OVX_* environment variable's value, or
/// options that only make sense together. The tool exits with <see cref="ExitCodes.Usage"/>.
/// </summary>
internal sealed class UsageException(string message) : Exception(message);
