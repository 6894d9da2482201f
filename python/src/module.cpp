#include "native.hpp"

NB_MODULE(_native, m) {
  m.doc() = "The data_loader native core (C++); use the data_loader package's modules.";
  dl::python::BindCli(m);
  dl::python::BindConfig(m);
  dl::python::BindProcessor(m);
  dl::python::BindCluster(m);
  dl::python::BindTable(m);
}
