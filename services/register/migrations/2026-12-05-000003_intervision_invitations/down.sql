DROP TABLE intervision_invitations;
