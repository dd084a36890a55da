/// Networks generated from optimizer recurrences (Li, Yang, Chen, Lin, ACML 2018).
/// Not implemented yet: see the open issue "Networks from optimizer recurrences".
public enum ArchFromOpt {}
