//! The PHI taxonomy: HIPAA Safe Harbor identifiers plus facility names.

use std::fmt;
use std::str::FromStr;

/// One category of protected health information. The names are a fixed interface
/// (`../shared/design.md`): they appear in JSON output, headers and audit records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhiLabel {
    Name,
    Date,
    /// Ages over 89 only; younger ages are not PHI.
    Age,
    Phone,
    Fax,
    Email,
    Ssn,
    Mrn,
    HealthPlanId,
    AccountNumber,
    LicenseNumber,
    VehicleId,
    DeviceId,
    Url,
    IpAddress,
    BiometricId,
    /// A street address line or post-office box.
    Address,
    /// City, county, ZIP code and other units smaller than a state.
    Location,
    /// Hospital, clinic and practice names.
    Facility,
    /// Any other unique identifying number or code.
    OtherId,
}

impl PhiLabel {
    pub const ALL: [PhiLabel; 20] = [
        PhiLabel::Name,
        PhiLabel::Date,
        PhiLabel::Age,
        PhiLabel::Phone,
        PhiLabel::Fax,
        PhiLabel::Email,
        PhiLabel::Ssn,
        PhiLabel::Mrn,
        PhiLabel::HealthPlanId,
        PhiLabel::AccountNumber,
        PhiLabel::LicenseNumber,
        PhiLabel::VehicleId,
        PhiLabel::DeviceId,
        PhiLabel::Url,
        PhiLabel::IpAddress,
        PhiLabel::BiometricId,
        PhiLabel::Address,
        PhiLabel::Location,
        PhiLabel::Facility,
        PhiLabel::OtherId,
    ];

    /// The position of this label in [`PhiLabel::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PhiLabel::Name => "NAME",
            PhiLabel::Date => "DATE",
            PhiLabel::Age => "AGE",
            PhiLabel::Phone => "PHONE",
            PhiLabel::Fax => "FAX",
            PhiLabel::Email => "EMAIL",
            PhiLabel::Ssn => "SSN",
            PhiLabel::Mrn => "MRN",
            PhiLabel::HealthPlanId => "HEALTH_PLAN_ID",
            PhiLabel::AccountNumber => "ACCOUNT_NUMBER",
            PhiLabel::LicenseNumber => "LICENSE_NUMBER",
            PhiLabel::VehicleId => "VEHICLE_ID",
            PhiLabel::DeviceId => "DEVICE_ID",
            PhiLabel::Url => "URL",
            PhiLabel::IpAddress => "IP_ADDRESS",
            PhiLabel::BiometricId => "BIOMETRIC_ID",
            PhiLabel::Address => "ADDRESS",
            PhiLabel::Location => "LOCATION",
            PhiLabel::Facility => "FACILITY",
            PhiLabel::OtherId => "OTHER_ID",
        }
    }
}

impl fmt::Display for PhiLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label name that is not in the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLabel;

impl FromStr for PhiLabel {
    type Err = UnknownLabel;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        PhiLabel::ALL
            .into_iter()
            .find(|label| label.as_str() == name)
            .ok_or(UnknownLabel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_round_trips_through_its_name() {
        for label in PhiLabel::ALL {
            assert_eq!(label.as_str().parse::<PhiLabel>(), Ok(label));
        }
        assert_eq!("name".parse::<PhiLabel>(), Err(UnknownLabel));
        for (position, label) in PhiLabel::ALL.into_iter().enumerate() {
            assert_eq!(label.index(), position);
        }
    }
}
